/**
 * The IR's hash-consing (ir/node.ts): equal fields give one node, any difference another, hash
 * collisions are told apart field by field, and the table keeps working past its sweeps. No GPU.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { inputNode, Node, nodeHash } from '../ir/node.ts';

test('equal fields give one node; each field tells nodes apart', () => {
  const x = inputNode('float32', [2, 3]), y = inputNode('float32', [2, 3]);
  const a = Node.make('add', 'float32', [2, 3], [x, y]);
  assert.is(Node.make('add', 'float32', [2, 3], [x, y]), a);
  assert.is.not(Node.make('sub', 'float32', [2, 3], [x, y]), a);
  assert.is.not(Node.make('add', 'int32', [2, 3], [x, y]), a);
  assert.is.not(Node.make('add', 'float32', [3, 2], [x, y]), a);
  assert.is.not(Node.make('add', 'float32', [6], [x, y]), a);
  assert.is.not(Node.make('add', 'float32', [2, 3], [y, x]), a);
  // Shape and sources concatenated alike must not meet: [2, 3] with one source vs [2] with two.
  assert.is.not(Node.make('add', 'float32', [2], [x, y]), Node.make('add', 'float32', [2, x.id], [y]));
  assert.is.not(inputNode('float32', [2, 3]), x);
});

test('constants: NaNs are one node, 0 and -0 two, numbers differ from objects', () => {
  const c = (v: number) => Node.make('const', 'float32', [], [], v);
  assert.is(c(NaN), c(0 / 0));
  assert.is.not(c(0), c(-0));
  assert.ok(Object.is(c(-0).arg, -0));
  assert.is(c(0.1), c(0.1));
  assert.is.not(c(1), c(1 + 2 ** -52));
  assert.is.not(Node.make('const', 'float32', [], []), c(0)); // no arg vs arg 0
});

test('object args compare by value: permutations, reductions, pads', () => {
  const x = inputNode('float32', [2, 3, 4]);
  const p = Node.make('permute', 'float32', [4, 2, 3], [x], [2, 0, 1]);
  assert.is(Node.make('permute', 'float32', [4, 2, 3], [x], [2, 0, 1]), p);
  assert.is.not(Node.make('permute', 'float32', [4, 2, 3], [x], [2, 1, 0]), p);
  const r = Node.make('reduce', 'float32', [2, 3, 1], [x], { op: 'sum', axes: [2] });
  assert.is(Node.make('reduce', 'float32', [2, 3, 1], [x], { op: 'sum', axes: [2] }), r);
  assert.is.not(Node.make('reduce', 'float32', [2, 3, 1], [x], { op: 'max', axes: [2] }), r);
  const pad = Node.make('pad', 'float32', [2, 3, 6], [x], [[0, 0], [0, 0], [1, 1]]);
  assert.is(Node.make('pad', 'float32', [2, 3, 6], [x], [[0, 0], [0, 0], [1, 1]]), pad);
  assert.is.not(Node.make('pad', 'float32', [2, 3, 6], [x], [[0, 0], [0, 0], [2, 0]]), pad);
});

test('nodes whose hashes collide stay distinct, and each is found again', () => {
  const u = 2235 * 0.001, v = 1025967 * 0.001; // found by search: equal hashes, different values
  assert.is(nodeHash('const', 'float32', [], [], u), nodeHash('const', 'float32', [], [], v));
  const a = Node.make('const', 'float32', [], [], u), b = Node.make('const', 'float32', [], [], v);
  assert.is.not(a, b);
  assert.is(a.arg, u);
  assert.is(b.arg, v);
  assert.is(Node.make('const', 'float32', [], [], u), a);
  assert.is(Node.make('const', 'float32', [], [], v), b);
});

test('many live nodes (past the table sweeps) are all distinct and found again', () => {
  const x = inputNode('float32', [8]);
  const made: Node[] = [];
  for (let i = 0; i < 20000; i++) made.push(Node.make('mul', 'float32', [8], [x, Node.make('const', 'float32', [8], [], i * 0.5 + 0.25)]));
  assert.is(new Set(made).size, made.length);
  for (let i = 0; i < 20000; i += 997) assert.is(Node.make('mul', 'float32', [8], [x, Node.make('const', 'float32', [8], [], i * 0.5 + 0.25)]), made[i]);
});

test.run();
