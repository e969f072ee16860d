import type { UiPages } from '../router.ts';

/** Filled in by the web UI work. */
export const taskInstancePages: UiPages = () => {};
