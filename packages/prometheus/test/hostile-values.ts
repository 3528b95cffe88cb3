/** Label values that try to leave their quotes or change a query; shared by the unit and the integration tests. */
export const HOSTILE_VALUES: readonly string[] = [
  'say "hi"',
  'back\\slash',
  'trailing\\',
  'close}brace',
  'new\nline',
  'cr\rtab\t',
  '"} or vector(1) #',
  '\\"} or vector(1) #',
  'x"}) or vector(1) or (up{a="',
  'unicodé ✓ 日本 😀',
  'nul\u0000bell\u0007del\u007fnel\u0085ls\u2028',
  'a.b*c+d?e(f)g|h[i]j{k}l^m$n\\o',
];
