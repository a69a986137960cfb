import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** Where the clients connect. On AWS leave it empty; locally name each endpoint. */
export interface AwsClientOptions {
  readonly region?: string;
  /** Endpoint of SQS, SNS and S3 (fauxqs serves all three on one port). */
  readonly messagingEndpoint?: string;
  /** Endpoint of DynamoDB (dynalite locally). */
  readonly dynamodbEndpoint?: string;
}

/** The AWS clients that task modules and the consumer share. */
export interface AwsClients {
  readonly sqs: SQSClient;
  readonly sns: SNSClient;
  readonly s3: S3Client;
  /** DynamoDB with plain JavaScript values. */
  readonly dynamodb: DynamoDBDocumentClient;
  /** The same connection with DynamoDB's attribute-value shapes. */
  readonly dynamodbClient: DynamoDBClient;
}

// Emulators accept any credentials; fixed ones keep the SDK from searching
// the machine's credential chain, which has nothing here.
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

function config(endpoint: string | undefined, region: string | undefined) {
  if (endpoint === undefined) return region ? { region } : {};
  return {
    endpoint,
    region: region ?? 'us-east-1',
    credentials: LOCAL_CREDENTIALS,
  };
}

/** Builds the clients; SDK retries (3 attempts, backoff) stay on. */
export function createAwsClients(options: AwsClientOptions = {}): AwsClients {
  const messaging = config(options.messagingEndpoint, options.region);
  const dynamodb = new DynamoDBClient(
    config(options.dynamodbEndpoint, options.region),
  );
  return {
    sqs: new SQSClient(messaging),
    sns: new SNSClient(messaging),
    // The emulator serves buckets by path, not by host name.
    s3: new S3Client({ ...messaging, forcePathStyle: !!messaging.endpoint }),
    dynamodb: DynamoDBDocumentClient.from(dynamodb, {
      marshallOptions: { removeUndefinedValues: true },
    }),
    dynamodbClient: dynamodb,
  };
}

/** Closes the sockets of every client. */
export function destroyAwsClients(clients: AwsClients): void {
  clients.sqs.destroy();
  clients.sns.destroy();
  clients.s3.destroy();
  clients.dynamodb.destroy();
}
