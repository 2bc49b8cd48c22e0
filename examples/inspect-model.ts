/**
 * A module for the `tessera` CLI: the seed's Keras model with example data. A compiled model with
 * x and y is looked at as one train step (forward, backward, Adam update):
 *
 *   npx tessera explain examples/inspect-model.ts --svg model.svg
 *   npx tessera profile examples/inspect-model.ts
 */
import { Dense, Sequential } from '../index.ts';

export const model = new Sequential([new Dense(10, { activation: 'relu', inputShape: [3] }), new Dense(1, { activation: 'sigmoid' })]);
model.compile({ optimizer: 'adam', loss: 'binaryCrossentropy', metrics: ['accuracy'] });
export const x = [[1, 2, 3], [4, 5, 6], [7, 8, 9]];
export const y = [[0], [1], [0]];
