/**
 * Scenario commands of a device (`radio.onControl`): `power-on` / `power-off` always, the
 * device's own actions only while it is powered. Never throws: unknown actions, a powered-off
 * device and actions that throw are traced as `control-refused` with the reason.
 */
import type { AppTraceEvent } from './trace-events.js';

export interface DeviceControl {
  trace: (e: AppTraceEvent) => void;
  powered: boolean;
  powerOn: () => void;
  powerOff: () => void;
  /** action -> handler (gets the whole command). */
  actions: Record<string, (cmd: Record<string, unknown>) => void>;
}

export function runDeviceControl(cmd: Record<string, unknown>, c: DeviceControl): void {
  const action = String(cmd.action);
  try {
    if (action === 'power-on') c.powerOn();
    else if (action === 'power-off') c.powerOff();
    else if (!c.powered) c.trace({ type: 'control-refused', action, reason: 'powered-off' });
    else {
      const handler = Object.hasOwn(c.actions, action) ? c.actions[action] : undefined;
      if (handler) handler(cmd);
      else c.trace({ type: 'control-refused', action, reason: 'unknown-action' });
    }
  } catch (e) {
    c.trace({ type: 'control-refused', action, reason: (e as Error).message });
  }
}
