import { describe, expect, it } from 'vitest';
import { toCsv } from './output.ts';

describe('toCsv', () => {
  it('quotes what needs quoting and leaves nulls empty', () => {
    expect(toCsv(['a', 'b', 'c'], [[1, 'x,y', null], [12345678901234567890n, 'say "hi"', 'line\nbreak']])).toBe(
      'a,b,c\r\n1,"x,y",\r\n12345678901234567890,"say ""hi""","line\nbreak"\r\n',
    );
  });
});
