import { describe, expect, it } from 'vitest';
import { signCallback, verifyCallback } from '../../lib/callbacks/signature.ts';

const SECRET = 'receiver-secret-0123456789abcdef';
const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
const BODY = JSON.stringify({
  statuses: [{ taskId: 't-1', status: 'completed', attempts: 1 }],
});

describe('callback signature', () => {
  it('verifies a request signed with a known key', () => {
    // Prepare
    const header = signCallback(BODY, SECRET, 'key-1', NOW);

    // Act
    const verdict = verifyCallback({
      body: BODY,
      header,
      secrets: { 'key-1': SECRET },
      now: NOW + 1_000,
    });

    // Assess
    expect(header).toMatch(/^t=\d+,kid=key-1,v1=[0-9a-f]{64}$/);
    expect(verdict).toEqual({
      valid: true,
      keyId: 'key-1',
      timestamp: NOW / 1000,
    });
  });

  it('verifies the raw bytes as well as text', () => {
    // Prepare
    const header = signCallback(BODY, SECRET, 'key-1', NOW);

    // Act
    const verdict = verifyCallback({
      body: Buffer.from(BODY),
      header,
      secrets: { 'key-1': SECRET },
      now: NOW,
    });

    // Assess
    expect(verdict.valid).toBe(true);
  });

  it('accepts the old and the new key while a secret rotates', () => {
    // Prepare
    const secrets = { old: 'old-secret-0123456789', new: SECRET };
    const headers = [
      signCallback(BODY, secrets.old, 'old', NOW),
      signCallback(BODY, secrets.new, 'new', NOW),
    ];

    // Act
    const verdicts = headers.map((header) =>
      verifyCallback({ body: BODY, header, secrets, now: NOW }),
    );

    // Assess
    expect(verdicts.map((v) => v.valid)).toEqual([true, true]);
  });

  it.each([
    ['a tampered body', { body: BODY.replace('completed', 'failed') }],
    [
      'a body signed with another secret',
      { secrets: { 'key-1': 'x'.repeat(20) } },
    ],
  ])('refuses %s', (_name, change) => {
    // Prepare
    const header = signCallback(BODY, SECRET, 'key-1', NOW);

    // Act
    const verdict = verifyCallback({
      body: BODY,
      header,
      secrets: { 'key-1': SECRET },
      now: NOW,
      ...change,
    });

    // Assess
    expect(verdict).toEqual({ valid: false, reason: 'SIGNATURE_MISMATCH' });
  });

  it('refuses an unknown key id', () => {
    // Prepare
    const header = signCallback(BODY, SECRET, 'retired', NOW);

    // Act
    const verdict = verifyCallback({
      body: BODY,
      header,
      secrets: { 'key-1': SECRET, toString: SECRET },
      now: NOW,
    });

    // Assess
    expect(verdict).toEqual({ valid: false, reason: 'UNKNOWN_KEY_ID' });
  });

  it.each([
    ['old', NOW + 301_000],
    ['from the future', NOW - 301_000],
  ])('refuses a timestamp too %s', (_name, now) => {
    // Prepare
    const header = signCallback(BODY, SECRET, 'key-1', NOW);

    // Act
    const verdict = verifyCallback({
      body: BODY,
      header,
      secrets: { 'key-1': SECRET },
      now,
    });

    // Assess
    expect(verdict).toEqual({
      valid: false,
      reason: 'TIMESTAMP_OUT_OF_TOLERANCE',
    });
  });

  it('takes a tolerance of its own', () => {
    // Prepare
    const header = signCallback(BODY, SECRET, 'key-1', NOW);

    // Act
    const verdict = verifyCallback({
      body: BODY,
      header,
      secrets: { 'key-1': SECRET },
      toleranceSeconds: 30,
      now: NOW + 31_000,
    });

    // Assess
    expect(verdict).toMatchObject({ valid: false });
  });

  it.each([
    [undefined, 'MISSING_SIGNATURE'],
    ['', 'MISSING_SIGNATURE'],
    ['v1=abc', 'MALFORMED_SIGNATURE'],
    ['t=1,kid=key-1,v1=zz', 'MALFORMED_SIGNATURE'],
    [`t=abc,kid=key-1,v1=${'a'.repeat(64)}`, 'MALFORMED_SIGNATURE'],
    ['garbage', 'MALFORMED_SIGNATURE'],
  ])('refuses the header %j', (header, reason) => {
    // Act
    const verdict = verifyCallback({
      body: BODY,
      header,
      secrets: { 'key-1': SECRET },
      now: NOW,
    });

    // Assess
    expect(verdict).toEqual({ valid: false, reason });
  });

  it('throws on a key id the header cannot carry', () => {
    // Act
    const sign = () => signCallback(BODY, SECRET, 'a,b', NOW);

    // Assess
    expect(sign).toThrow(expect.objectContaining({ code: 'INVALID_KEY_ID' }));
  });
});
