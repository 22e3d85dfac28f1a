// A resolved secret as a step holds it: every way of printing, serializing or inspecting it yields
// `[secret]`; the value is reachable only through an explicit reveal() where it is injected.
import { SCRUBBED } from '../observe/index.ts';

const INSPECT = Symbol.for('nodejs.util.inspect.custom');

export class SecretValue {
  readonly name: string;
  readonly connector: string;
  readonly env: string;
  readonly version: number;
  readonly #value: string;

  constructor(meta: { name: string; connector: string; env: string; version: number }, value: string) {
    this.name = meta.name;
    this.connector = meta.connector;
    this.env = meta.env;
    this.version = meta.version;
    this.#value = value;
  }

  /** The plaintext, for injection into a request header or connector call; never log it. */
  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return SCRUBBED;
  }

  toJSON(): string {
    return SCRUBBED;
  }

  [Symbol.toPrimitive](): string {
    return SCRUBBED;
  }

  [INSPECT](): string {
    return SCRUBBED;
  }
}
