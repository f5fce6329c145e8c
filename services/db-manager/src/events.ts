// The manager's event log: every recovery step and problem change, kept in memory for
// GET /api/events and logged once here.
import type { Logger } from '@dramble/lib';

export type EventType = 'bootstrap' | 'problem' | 'failover' | 'switchover' | 'rejoin' | 'fence' | 'quarantine' | 'repair' | 'recovery-failed' | 'leader' | 'semi-sync' | 'reseed' | 'step';

export interface ManagerEvent {
  id: number;
  at: string;
  type: EventType;
  message: string;
  data?: Record<string, unknown>;
}

export class EventLog {
  private readonly events: ManagerEvent[] = [];
  private seq = 0;
  private readonly listeners: Array<(e: ManagerEvent) => void> = [];

  constructor(
    private readonly logger: Logger,
    private readonly capacity = 500,
  ) {}

  add(type: EventType, message: string, data?: Record<string, unknown>): ManagerEvent {
    const e: ManagerEvent = { id: ++this.seq, at: new Date().toISOString(), type, message, ...(data ? { data } : {}) };
    this.events.push(e);
    if (this.events.length > this.capacity) this.events.shift();
    const level = type === 'recovery-failed' || (type === 'semi-sync' && data?.['waiting'] === false) ? 'warn' : 'info';
    this.logger[level]({ event: type, ...data }, message);
    for (const l of this.listeners) l(e);
    return e;
  }

  onEvent(l: (e: ManagerEvent) => void): void {
    this.listeners.push(l);
  }

  list(limit = 100): ManagerEvent[] {
    return this.events.slice(-limit);
  }
}
