/** fast-check generators of the protocol's basic values, shared by the schema property tests. */
import fc from 'fast-check';

/** An ISO instant as stations write them: UTC with milliseconds, +07:00, or whole seconds. */
export const instant = fc
  .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T23:59:59Z'), noInvalidDate: true })
  .chain((d) =>
    fc.constantFrom(
      d.toISOString(),
      d.toISOString().replace('Z', '+07:00'),
      d.toISOString().replace(/\.\d+Z$/, 'Z'),
    ),
  );
const idChars = fc.constantFrom(...'abcXYZ019._-'.split(''));
/** An id matching `ID_PATTERN`. */
export const id = fc
  .tuple(fc.constantFrom('a', 'Z', '7'), fc.array(idChars, { maxLength: 20 }))
  .map(([h, t]) => h + t.join(''));
export const str = (max: number) => fc.string({ maxLength: max });
export const num = (min: number, max: number) => fc.double({ min, max, noNaN: true });
