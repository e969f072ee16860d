/**
 * Every built-in trigger, registered on import: the triggerer imports this module so it can build any
 * trigger a task defers to. A new trigger module adds its import here.
 */
import './temporalTrigger.ts';
import './fileTrigger.ts';
import './httpTrigger.ts';
import './sqlTrigger.ts';
import './externalTaskTrigger.ts';
