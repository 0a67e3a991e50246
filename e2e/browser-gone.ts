/**
 * Chromium's own browser process sometimes dies on a loaded CI machine (a crashpad dump, then every page
 * says "Target page, context or browser has been closed"). The e2e project retries a test once when, and
 * only when, its error is this one (vitest.config.ts); e2e/browser-crash.setup.ts relaunches the browser
 * first. Any other failure fails at once.
 */
export const BROWSER_GONE = /Target page, context or browser has been closed|Target crashed/;
