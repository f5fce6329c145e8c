// Users and their API tokens in MySQL. Tokens are random; only their SHA-256 is stored.
import { createHash, randomBytes } from 'node:crypto';
import type { Database } from '../db/database.js';
import { hashPassword, MIN_PASSWORD_LENGTH } from './password.js';

export interface User {
  id: number;
  email: string;
  name: string;
  role: 'admin' | 'editor';
}

export interface UserWithHash extends User {
  passwordHash: string;
}

export class WeakPasswordError extends Error {
  constructor() {
    super(`password must be at least ${MIN_PASSWORD_LENGTH} characters`);
    this.name = 'WeakPasswordError';
  }
}

export class UserExistsError extends Error {
  constructor(readonly email: string) {
    super(`a user with email ${email} exists already`);
    this.name = 'UserExistsError';
  }
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export class Users {
  constructor(private readonly db: Database) {}

  /** Login reads from the primary (a user just created must be able to log in), a replica if it is down. */
  async findByEmail(email: string): Promise<UserWithHash | null> {
    const rows = await this.db.read(
      (sql) => sql.rows<{ id: number; email: string; name: string; role: User['role']; password_hash: string }>('SELECT id, email, name, role, password_hash FROM users WHERE email = ?', [normalizeEmail(email)]),
      { primary: true },
    );
    const r = rows[0];
    return r ? { id: r.id, email: r.email, name: r.name, role: r.role, passwordHash: r.password_hash } : null;
  }

  async count(): Promise<number> {
    const rows = await this.db.read((sql) => sql.rows<{ n: number }>('SELECT COUNT(*) AS n FROM users'), { primary: true });
    return Number(rows[0]?.n ?? 0);
  }

  async create(input: { email: string; name?: string; password: string; role?: User['role'] }): Promise<User> {
    if (input.password.length < MIN_PASSWORD_LENGTH) throw new WeakPasswordError();
    const email = normalizeEmail(input.email);
    const name = input.name?.trim() || email.split('@')[0] || email;
    const hash = await hashPassword(input.password);
    try {
      const { result } = await this.db.write((sql) => sql.exec('INSERT INTO users (email, name, password_hash, role) VALUES (?, ?, ?, ?)', [email, name, hash, input.role ?? 'editor']));
      return { id: result.insertId, email, name, role: input.role ?? 'editor' };
    } catch (err) {
      if ((err as { errno?: number }).errno === 1062) throw new UserExistsError(email);
      throw err;
    }
  }

  /** Creates a token for the user and returns it; it is shown once and never stored in clear. */
  async createToken(userId: number, name: string): Promise<string> {
    const token = `dr_${randomBytes(32).toString('base64url')}`;
    await this.db.write((sql) => sql.exec('INSERT INTO api_tokens (user_id, name, token_hash) VALUES (?, ?, ?)', [userId, name.slice(0, 100) || 'api', hashToken(token)]));
    return token;
  }

  async listTokens(userId: number): Promise<Array<{ id: number; name: string; createdAt: Date }>> {
    const rows = await this.db.read((sql) => sql.rows<{ id: number; name: string; created_at: Date }>('SELECT id, name, created_at FROM api_tokens WHERE user_id = ? ORDER BY id', [userId]), { primary: true });
    return rows.map((r) => ({ id: r.id, name: r.name, createdAt: r.created_at }));
  }

  /** The token's user: a replica first, the primary when the token is too new to have replicated. */
  async findByToken(token: string): Promise<User | null> {
    const q = 'SELECT u.id, u.email, u.name, u.role FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?';
    const hash = hashToken(token);
    let rows = await this.db.read((sql) => sql.rows<User>(q, [hash]));
    if (rows.length === 0 && !this.db.primaryDown) rows = await this.db.read((sql) => sql.rows<User>(q, [hash]), { primary: true });
    return rows[0] ?? null;
  }
}
