//! The users service: accounts, sessions, addresses.

import { request } from './http';
import type { Address, AddressInput, MailAccepted, Page, Registration, ResetPassword, TokenPair, User } from './types';

const BASE = '/api/users';

export const usersApi = {
  register: (input: Registration) =>
    request<{ status: string; message: string }>(`${BASE}/register`, { method: 'POST', body: input }),
  login: (email: string, password: string) =>
    request<TokenPair>(`${BASE}/login`, { method: 'POST', body: { email, password } }),
  logout: (refreshToken: string) => request<void>(`${BASE}/logout`, { method: 'POST', body: { refreshToken } }),
  me: (signal?: AbortSignal) => request<User>(`${BASE}/me`, { signal }),
  updateMe: (name: string, version: number) =>
    request<User>(`${BASE}/me`, { method: 'PATCH', body: { name }, headers: { 'if-match': `"${version}"` } }),
  changePassword: (currentPassword: string, newPassword: string) =>
    request<TokenPair>(`${BASE}/me/password`, { method: 'POST', body: { currentPassword, newPassword } }),
  addresses: (signal?: AbortSignal) => request<Page<Address>>(`${BASE}/me/addresses`, { query: { limit: 50 }, signal }),
  createAddress: (input: AddressInput) => request<Address>(`${BASE}/me/addresses`, { method: 'POST', body: input }),
  replaceAddress: (id: string, input: AddressInput) =>
    request<Address>(`${BASE}/me/addresses/${encodeURIComponent(id)}`, { method: 'PUT', body: input }),
  deleteAddress: (id: string) =>
    request<void>(`${BASE}/me/addresses/${encodeURIComponent(id)}`, { method: 'DELETE' }),
  /** Always 202, whether or not an account uses the address. */
  forgotPassword: (email: string) =>
    request<MailAccepted>(`${BASE}/password/forgot`, { method: 'POST', body: { email } }),
  resetPassword: (token: string, newPassword: string) =>
    request<void>(`${BASE}/password/reset`, { method: 'POST', body: { token, newPassword } satisfies ResetPassword }),
  verifyEmail: (token: string) => request<void>(`${BASE}/email/verify`, { method: 'POST', body: { token } }),
  resendVerification: () => request<MailAccepted>(`${BASE}/me/email/verification`, { method: 'POST' }),
};
