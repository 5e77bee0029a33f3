import { describe, expect, it } from 'vitest';
import { ObjectSlot } from '../pbft/object-slot.ts';

describe('ObjectSlot', () => {
  it('keeps a value per object, invisible to keys, JSON and deep equality', () => {
    const slot = new ObjectSlot<object, Uint8Array>('test');
    const a = { x: 1 };
    const b = { x: 1 };
    expect(slot.get(a)).toBeUndefined();
    slot.set(a, Uint8Array.of(7));
    expect(slot.get(a)).toEqual(Uint8Array.of(7));
    expect(slot.get(b)).toBeUndefined();
    expect(Object.keys(a)).toEqual(['x']);
    expect(JSON.stringify(a)).toBe('{"x":1}');
    expect({ ...a }).toEqual({ x: 1 });
    expect(a).toStrictEqual(b);
  });

  it('gives each slot its own value for one object', () => {
    const one = new ObjectSlot<object, number>('one');
    const two = new ObjectSlot<object, number>('two');
    const o = {};
    one.set(o, 1);
    expect(two.get(o)).toBeUndefined();
    two.set(o, 2);
    expect([one.get(o), two.get(o)]).toEqual([1, 2]);
  });

  it('keeps values of frozen objects too (a null request batch is frozen)', () => {
    const slot = new ObjectSlot<readonly number[], string>('frozen');
    const frozen: readonly number[] = Object.freeze([]);
    slot.set(frozen, 'digest');
    expect(slot.get(frozen)).toBe('digest');
    expect(slot.get(Object.freeze([]))).toBeUndefined();
  });

  it('can be set again with the same value (two readers of one object)', () => {
    const slot = new ObjectSlot<object, string>('again');
    const o = {};
    slot.set(o, 'v');
    slot.set(o, 'v');
    expect(slot.get(o)).toBe('v');
  });
});
