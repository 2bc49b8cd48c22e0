/**
 * The nn namespace (`import { nn } from 'tessera'`): layers, Keras-style models, losses, metrics,
 * optimizers, initializers, activations and safetensors weights. Each part lives in its own file:
 *   activations.ts  activations by name         layers.ts      Dense/Linear, Activation, Flatten, Dropout, ...
 *   initializers.ts seeded Glorot/He/...        model.ts       Model (compile/fit/...) and Sequential
 *   losses.ts       cross-entropies, MSE, MAE   metrics.ts     accuracy variants, mse, mae
 *   optimizers.ts   SGD, Adam, AdamW, RMSprop   training.ts    pure train/eval steps and their jits
 *   progress.ts     the fit progress bar        safetensors.ts weights to and from bytes / files
 *   data.ts         host-side batching          summary.ts     the summary() table
 *   functional.ts   softmax, logSoftmax, layerNorm   conv.ts   conv2d and pooling (functional)
 */
export { Layer, Dense, Linear, Activation, ReLU, Sigmoid, Tanh, GELU, Softmax, LogSoftmax, Flatten, LayerNormalization, Dropout,
  dense, linear, activation, flattenLayer, layerNormalization, dropout, assignTensor, type Params, type LayerOptions, type DenseOptions, type ApplyContext } from './layers.ts';
export { Model, Sequential, sequential, type CompileArgs, type FitArgs, type History, type Callback } from './model.ts';
export { activations, getActivation, type ActivationName, type ActivationSpec, type ActivationFn } from './activations.ts';
export { relu, sigmoid, tanh, gelu, softplus, silu, elu, leakyRelu } from '../elementwise.ts';
export { softmax, logSoftmax, layerNorm } from './functional.ts';
export { conv2d, maxPool2d, avgPool2d } from './conv.ts';
export * as losses from './losses.ts';
export { binaryCrossentropy, categoricalCrossentropy, sparseCategoricalCrossentropy, meanSquaredError, meanAbsoluteError,
  Loss, BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy, MeanSquaredError, MeanAbsoluteError, type LossSpec } from './losses.ts';
export * as metrics from './metrics.ts';
export * as optimizers from './optimizers.ts';
export { Optimizer, SGD, Adam, AdamW, RMSprop, sgd, adam, adamw, rmsprop, type OptState, type OptimizerSpec } from './optimizers.ts';
export * as initializers from './initializers.ts';
export { saveSafetensors, loadSafetensors, encodeSafetensors, decodeSafetensors, type RawTensor } from './safetensors.ts';
export { trainStep, evalStep, type StepResult } from './training.ts';
export type { Logs, Verbosity } from './progress.ts';
export { Conv2D, MaxPooling2D, AveragePooling2D, Reshape, conv2dLayer, maxPooling2d, averagePooling2d, reshapeLayer,
  type Conv2DOptions, type Pool2DOptions } from './conv-layers.ts';
export { scaledDotProductAttention, MultiHeadAttention, embedding, Embedding, type AttentionOptions, type MultiHeadAttentionOptions } from './attention.ts';
