/**
 * One empty Set shared by every owner whose set is usually empty (issue 13, idle memory: an empty
 * Set is ~0.15 KiB, and an idle connection had several). Reading, iterating and deleting work as on
 * any empty set; adding throws, so an owner must replace it with its own set first (addTo below).
 */
class SharedEmptySet extends Set<never> {
  override add(): never {
    throw new Error('the shared empty set cannot be added to (use addTo)');
  }
}

const SHARED_EMPTY: Set<never> = new SharedEmptySet();

/** The shared empty set, typed for the owner's items. */
export function sharedEmptySet<T>(): Set<T> {
  return SHARED_EMPTY as Set<T>;
}

/** Adds `item` to `set`, or to a new set when `set` is the shared empty one; returns the set to keep. */
export function addTo<T>(set: Set<T>, item: T): Set<T> {
  if (set === (SHARED_EMPTY as Set<T>)) return new Set([item]);
  set.add(item);
  return set;
}
