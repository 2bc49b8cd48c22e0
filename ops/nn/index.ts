/**
 * The nn namespace (`import { nn } from 'tessera'`): layers, Keras-style models, losses, metrics,
 * optimizers, initializers, activations and safetensors weights. Each part lives in its own file:
 *   activations.ts  activations by name         layers.ts      Dense/Linear, Activation, Flatten, Dropout, ...
 *   initializers.ts seeded Glorot/He/...        model.ts       Model (compile/fit/...) and Sequential
 *   losses.ts       cross-entropies, MSE, MAE   metrics.ts     accuracy variants, mse, mae
 *   optimizers.ts   SGD, Adam, AdamW, RMSprop   training.ts    pure train/eval steps and their jits
 *   schedules.ts    learning-rate schedules (CosineDecay, ExponentialDecay)
 *   progress.ts     the fit progress bar        safetensors.ts weights to and from bytes / files
 *   data.ts         host-side batching          summary.ts     the summary() table
 *   functional.ts   softmax, logSoftmax, layerNorm, rmsNorm   conv.ts   conv1d, conv2d and pooling (functional)
 *   sequential.ts   Sequential                  functional-model.ts  nn.input / nn.model: graphs of layers
 *   symbolic.ts     symbolic tensors            merge-layers.ts      Add, Concatenate, ... (residuals)
 *   norm-layers.ts  BatchNormalization, RMSNorm spatial-layers.ts    Conv1D, Conv2DTranspose, UpSampling2D, global pooling
 *   positional.ts   position embeddings         conv-transpose.ts    conv2dTranspose, upSampling2d (functional)
 *   serialize.ts    whole models to/from JSON + safetensors
 *   callbacks.ts    fit callbacks: the Callback interface, EarlyStopping
 */
export { Layer, Dense, Linear, Activation, ReLU, Sigmoid, Tanh, GELU, Softmax, LogSoftmax, Flatten, LayerNormalization, Dropout,
  dense, linear, activation, flattenLayer, layerNormalization, dropout, assignTensor, type Params, type LayerOptions, type DenseOptions, type ApplyContext } from './layers.ts';
export { Model, type CompileArgs, type FitArgs, type History } from './model.ts';
export { EarlyStopping, type Callback, type EarlyStoppingOptions, type TrainingModel } from './callbacks.ts';
export { Sequential, sequential } from './sequential.ts';
export { FunctionalModel, InputLayer, input, model } from './functional-model.ts';
export { SymbolicTensor } from './symbolic.ts';
export { MergeLayer, Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate } from './merge-layers.ts';
export { BatchNormalization, RMSNorm, type BatchNormalizationOptions } from './norm-layers.ts';
export { Conv1D, Conv2DTranspose, UpSampling2D, GlobalAveragePooling2D, GlobalMaxPooling2D, GlobalAveragePooling1D,
  type Conv1DOptions, type Conv2DTransposeOptions } from './spatial-layers.ts';
export { PositionalEmbedding, SinusoidalPositionalEncoding, sinusoidalEncoding } from './positional.ts';
export { modelToJSON, modelFromJSON, saveModel, loadModel, registerLayer, type ModelJSON, type LayerJSON } from './serialize.ts';
export { conv1d, type Conv1dOptions } from './conv.ts';
export { conv2dTranspose, upSampling2d, type Conv2dTransposeOptions } from './conv-transpose.ts';
export { activations, getActivation, type ActivationName, type ActivationSpec, type ActivationFn } from './activations.ts';
export { relu, sigmoid, tanh, gelu, softplus, silu, elu, leakyRelu } from '../elementwise.ts';
export { softmax, logSoftmax, layerNorm, rmsNorm } from './functional.ts';
export { conv2d, maxPool2d, avgPool2d } from './conv.ts';
export * as losses from './losses.ts';
export { binaryCrossentropy, categoricalCrossentropy, sparseCategoricalCrossentropy, meanSquaredError, meanAbsoluteError,
  checkSparseLabels, Loss, BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy, MeanSquaredError, MeanAbsoluteError, type LossSpec } from './losses.ts';
export * as metrics from './metrics.ts';
export * as optimizers from './optimizers.ts';
export { Optimizer, SGD, Adam, AdamW, RMSprop, sgd, adam, adamw, rmsprop, type OptState, type OptimizerSpec } from './optimizers.ts';
export * as schedules from './schedules.ts';
export { LearningRateSchedule, CosineDecay, ExponentialDecay, cosineDecay, exponentialDecay, type CosineDecayOptions, type ExponentialDecayOptions } from './schedules.ts';
export * as initializers from './initializers.ts';
export { saveSafetensors, loadSafetensors, encodeSafetensors, decodeSafetensors, type RawTensor } from './safetensors.ts';
export { trainStep, evalStep, type StepResult, type ModelContext } from './training.ts';
export type { Logs, Verbosity } from './progress.ts';
export { Conv2D, MaxPooling2D, AveragePooling2D, Reshape, conv2dLayer, maxPooling2d, averagePooling2d, reshapeLayer,
  type Conv2DOptions, type Pool2DOptions } from './conv-layers.ts';
export { scaledDotProductAttention, MultiHeadAttention, embedding, Embedding, type AttentionOptions, type MultiHeadAttentionOptions } from './attention.ts';
