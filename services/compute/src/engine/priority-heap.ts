/** A binary min-heap under `before` (the item that should come out first is "before" the others). */
export function createHeap<T>(before: (a: T, b: T) => boolean) {
  const items: T[] = [];
  const swap = (i: number, j: number): void => {
    [items[i], items[j]] = [items[j]!, items[i]!];
  };
  const up = (start: number): void => {
    let i = start;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(items[i]!, items[parent]!)) return;
      swap(i, parent);
      i = parent;
    }
  };
  const down = (start: number): void => {
    let i = start;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let first = i;
      if (left < items.length && before(items[left]!, items[first]!)) first = left;
      if (right < items.length && before(items[right]!, items[first]!)) first = right;
      if (first === i) return;
      swap(i, first);
      i = first;
    }
  };
  return {
    get size(): number {
      return items.length;
    },
    peek: (): T | undefined => items[0],
    push: (item: T): void => {
      items.push(item);
      up(items.length - 1);
    },
    pop: (): T | undefined => {
      const top = items[0];
      const last = items.pop();
      if (items.length > 0 && last !== undefined) {
        items[0] = last;
        down(0);
      }
      return top;
    },
  };
}

export type Heap<T> = ReturnType<typeof createHeap<T>>;
