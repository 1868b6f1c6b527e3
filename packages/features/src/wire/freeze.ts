/**
 * Freezes a decoded message and everything in it, so that readers can share it. Typed arrays
 * (a frame's values) cannot be frozen and are never handed out (catalogueOf copies nothing,
 * but nothing writes to them); an accessor (a decoded payload's `features`) is left as it is.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value) || ArrayBuffer.isView(value)) return value;
  for (const key of Object.keys(value)) {
    const descriptor = Object.getOwnPropertyDescriptor(value, key);
    if (descriptor && 'value' in descriptor) deepFreeze(descriptor.value);
  }
  return Object.freeze(value);
}
