// The signed-in user: a bearer token kept in this browser (localStorage) and
// the account it belongs to (GET /whoami). Listeners hear sign-in and sign-out.
import { api } from './api';
import type { User } from './shaping';

const kTokenKey = 'normbase.token';
let current: User | null = null;
const listeners = new Set<() => void>();

export const getToken = (): string => localStorage.getItem(kTokenKey) ?? '';
export const currentUser = (): User | null => current;
export function onSessionChange(f: () => void): () => void {
  listeners.add(f);
  return () => listeners.delete(f);
}
const notify = () => listeners.forEach((f) => f());

// Checks the token with the server before keeping it; throws ApiError if refused.
export async function signIn(token: string): Promise<User> {
  localStorage.setItem(kTokenKey, token.trim());
  try {
    current = await api<User>('/whoami');
  } catch (e) {
    localStorage.removeItem(kTokenKey);
    current = null;
    throw e;
  }
  notify();
  return current;
}

export function signOut(): void {
  localStorage.removeItem(kTokenKey);
  current = null;
  notify();
}

// At start-up: the stored token's user, or nobody when it was revoked.
export async function restoreSession(): Promise<void> {
  if (!getToken()) return;
  try {
    await signIn(getToken());
  } catch {
    current = null;
  }
}
