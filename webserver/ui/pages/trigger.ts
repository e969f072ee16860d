import type { UiPages } from '../router.ts';

/** Filled in by the web UI work. */
export const triggerPages: UiPages = () => {};
