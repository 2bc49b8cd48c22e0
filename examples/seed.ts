/**
 * The Keras program this project started from, line for line in Tessera:
 *
 *   model = Sequential([Dense(10, activation='relu', input_shape=(3,)), Dense(1, activation='sigmoid')])
 *   model.compile(optimizer='adam', loss='binary_crossentropy', metrics=['accuracy'])
 *   model.fit(x, y, epochs=10)
 *   print(model.predict([[1, 2, 3]]))
 *
 * Run: npx tsx examples/seed.ts
 */
import { Dense, Sequential } from '../index.ts';

const x = [[1, 2, 3], [4, 5, 6], [7, 8, 9]];
const y = [[0], [1], [0]];

const t0 = performance.now();
const model = new Sequential([new Dense(10, { activation: 'relu', inputShape: [3] }), new Dense(1, { activation: 'sigmoid' })]);
model.compile({ optimizer: 'adam', loss: 'binaryCrossentropy', metrics: ['accuracy'] });
await model.fit(x, y, { epochs: 10 });
const prediction = await model.predict([[1, 2, 3]]);
const [p] = await prediction.data();
console.log(`P(y = 1 | x = [1, 2, 3]) = ${p!.toFixed(4)}   (fit + predict: ${(performance.now() - t0).toFixed(0)} ms, first run: includes compiling the kernels)`);
