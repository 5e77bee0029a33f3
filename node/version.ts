import pkg from '../package.json' with { type: 'json' };

/** The daemon's version, from package.json, so there is one place to bump it. */
export const VERSION: string = pkg.version;
