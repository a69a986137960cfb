/** Conditional writes to the callback targets table. */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type { UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { CALLBACK_TARGETS_KEY } from '../tables.ts';
import { LeaseLostError } from './errors.ts';

/** One UpdateItem on the table, resolving to the returned item. */
export type Update<T> = (
  input: Omit<UpdateCommandInput, 'TableName'>,
) => Promise<T | undefined>;

/**
 * An update that applies only while `owner` holds the lease; throws
 * LeaseLostError when it does not. An extra condition is joined with AND,
 * and its failure is told apart from a lost lease by the caller.
 */
export function leasedUpdate<T>(update: Update<T>) {
  return async (
    target: string,
    owner: string,
    input: Omit<UpdateCommandInput, 'TableName' | 'Key'>,
  ) => {
    const extra = input.ConditionExpression;
    try {
      await update({
        ...input,
        Key: { [CALLBACK_TARGETS_KEY]: target },
        ConditionExpression: extra
          ? `leaseOwner = :owner AND (${extra})`
          : 'leaseOwner = :owner',
        ExpressionAttributeValues: {
          ...input.ExpressionAttributeValues,
          ':owner': owner,
        },
      });
    } catch (error) {
      if (extra || !(error instanceof ConditionalCheckFailedException)) {
        throw error;
      }
      throw new LeaseLostError(target);
    }
  };
}

/** Swallows a failed condition (resolving to undefined), rethrows the rest. */
export async function ignoreConditionFailure(
  error: unknown,
): Promise<undefined> {
  if (error instanceof ConditionalCheckFailedException) return undefined;
  throw error;
}
