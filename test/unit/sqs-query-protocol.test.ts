import { buildApp } from 'fauxqs';
import { describe, expect, it } from 'vitest';
import {
  InvalidQueryParameterError,
  readSqsQuery,
  SQS_QUERY_ACTIONS,
} from '../../lib/local/sqs-query-protocol.ts';
import { renderQueryAnswer } from '../../lib/local/sqs-query-xml.ts';

const QUEUE_URL = 'http://sqs.us-east-1.localhost:4566/000000000000/orders';
const NS = 'xmlns="http://queue.amazonaws.com/doc/2012-11-05/"';
const DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';

/** A form as a query-protocol client sends it, from pairs in order. */
function form(action: string, params: Record<string, string> = {}): string {
  const all = { Action: action, Version: '2012-11-05', ...params };
  return new URLSearchParams(all).toString();
}

/** The XML a successful answer becomes, around its result's content. */
function response(action: string, result: string | undefined): string {
  const wrapped =
    result === undefined ? '' : `<${action}Result>${result}</${action}Result>`;
  return (
    `${DECLARATION}<${action}Response ${NS}>${wrapped}` +
    '<ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata>' +
    `</${action}Response>`
  );
}

describe('query protocol requests', () => {
  it('reads SendMessage with message attributes and a number', () => {
    // Prepare
    const body = form('SendMessage', {
      QueueUrl: QUEUE_URL,
      MessageBody: '{"id":"a & b"}',
      DelaySeconds: '5',
      'MessageAttribute.1.Name': 'trace',
      'MessageAttribute.1.Value.DataType': 'String',
      'MessageAttribute.1.Value.StringValue': 'abc',
      'MessageAttribute.2.Name': 'blob',
      'MessageAttribute.2.Value.DataType': 'Binary',
      'MessageAttribute.2.Value.BinaryValue': 'aGk=',
    });

    // Act
    const query = readSqsQuery(body);

    // Assess
    expect(query).toEqual({
      action: 'SendMessage',
      input: {
        QueueUrl: QUEUE_URL,
        MessageBody: '{"id":"a & b"}',
        DelaySeconds: 5,
        MessageAttributes: {
          trace: { DataType: 'String', StringValue: 'abc' },
          blob: { DataType: 'Binary', BinaryValue: 'aGk=' },
        },
      },
    });
  });

  it('reads SendMessageBatch entries in the order of their numbers', () => {
    // Prepare: entry 10 sent before entry 2, as a form may order them
    const body = form('SendMessageBatch', {
      QueueUrl: QUEUE_URL,
      'SendMessageBatchRequestEntry.10.Id': 'last',
      'SendMessageBatchRequestEntry.10.MessageBody': 'z',
      'SendMessageBatchRequestEntry.1.Id': 'first',
      'SendMessageBatchRequestEntry.1.MessageBody': 'a',
      'SendMessageBatchRequestEntry.1.DelaySeconds': '2',
      'SendMessageBatchRequestEntry.1.MessageAttribute.1.Name': 'n',
      'SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.DataType':
        'Number',
      'SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.StringValue':
        '1',
      'SendMessageBatchRequestEntry.2.Id': 'second',
      'SendMessageBatchRequestEntry.2.MessageBody': 'b',
    });

    // Act
    const query = readSqsQuery(body);

    // Assess
    expect(query?.input).toEqual({
      QueueUrl: QUEUE_URL,
      Entries: [
        {
          Id: 'first',
          MessageBody: 'a',
          DelaySeconds: 2,
          MessageAttributes: { n: { DataType: 'Number', StringValue: '1' } },
        },
        { Id: 'second', MessageBody: 'b' },
        { Id: 'last', MessageBody: 'z' },
      ],
    });
  });

  it('reads ReceiveMessage name lists and numbers', () => {
    // Prepare
    const body = form('ReceiveMessage', {
      QueueUrl: QUEUE_URL,
      'AttributeName.1': 'All',
      'MessageAttributeName.1': 'tasklane.reason',
      'MessageAttributeName.2': 'tasklane.attempts',
      'MessageSystemAttributeName.1': 'SentTimestamp',
      MaxNumberOfMessages: '10',
      WaitTimeSeconds: '20',
      VisibilityTimeout: '0',
    });

    // Act
    const query = readSqsQuery(body);

    // Assess
    expect(query?.input).toEqual({
      QueueUrl: QUEUE_URL,
      AttributeNames: ['All'],
      MessageAttributeNames: ['tasklane.reason', 'tasklane.attempts'],
      MessageSystemAttributeNames: ['SentTimestamp'],
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 20,
      VisibilityTimeout: 0,
    });
  });

  it('reads CreateQueue attributes as text and tags as `tags`', () => {
    // Prepare
    const body = form('CreateQueue', {
      QueueName: 'orders',
      'Attribute.1.Name': 'VisibilityTimeout',
      'Attribute.1.Value': '30',
      'Tag.1.Key': 'team',
      'Tag.1.Value': 'payments',
    });

    // Act
    const query = readSqsQuery(body);

    // Assess
    expect(query?.input).toEqual({
      QueueName: 'orders',
      Attributes: { VisibilityTimeout: '30' },
      tags: { team: 'payments' },
    });
  });

  it('reads TagQueue tags as `Tags` and UntagQueue keys as a list', () => {
    // Act
    const tag = readSqsQuery(
      form('TagQueue', {
        QueueUrl: QUEUE_URL,
        'Tag.1.Key': 'a',
        'Tag.1.Value': '1',
      }),
    );
    const untag = readSqsQuery(
      form('UntagQueue', { QueueUrl: QUEUE_URL, 'TagKey.1': 'a' }),
    );

    // Assess
    expect(tag?.input).toEqual({ QueueUrl: QUEUE_URL, Tags: { a: '1' } });
    expect(untag?.input).toEqual({ QueueUrl: QUEUE_URL, TagKeys: ['a'] });
  });

  it('takes the queue URL a client posted to when the form names none', () => {
    // Act
    const query = readSqsQuery(form('PurgeQueue'), QUEUE_URL);

    // Assess
    expect(query?.input).toEqual({ QueueUrl: QUEUE_URL });
  });

  it('leaves SNS actions and forms without an action alone', () => {
    // Act
    const publish = readSqsQuery(form('Publish', { Message: 'x' }));
    const none = readSqsQuery('QueueUrl=x');

    // Assess
    expect(publish).toBeUndefined();
    expect(none).toBeUndefined();
  });

  it('throws when a number is not an integer, naming parameter and value', () => {
    // Act
    const read = () =>
      readSqsQuery(
        form('ReceiveMessage', {
          QueueUrl: QUEUE_URL,
          WaitTimeSeconds: 'soon',
        }),
      );

    // Assess
    expect(read).toThrow(InvalidQueryParameterError);
    expect(read).toThrow(/Value soon for parameter WaitTimeSeconds/);
  });

  it('names only actions fauxqs serves in the JSON protocol', async () => {
    // Prepare
    const app = buildApp({ logger: false });

    // Act
    const unknown: string[] = [];
    for (const action of SQS_QUERY_ACTIONS) {
      const answer = await app.inject({
        method: 'POST',
        url: '/',
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'x-amz-target': `AmazonSQS.${action}`,
        },
        payload: '{}',
      });
      if (answer.body.includes('InvalidAction')) unknown.push(action);
    }
    await app.close();

    // Assess
    expect(unknown).toEqual([]);
  });
});

describe('query protocol answers', () => {
  it('renders SendMessage as its result', () => {
    // Act
    const answer = renderQueryAnswer('SendMessage', {
      status: 200,
      requestId: 'req-1',
      body: JSON.stringify({
        MessageId: 'm-1',
        MD5OfMessageBody: 'b5',
        MD5OfMessageAttributes: 'a5',
      }),
    });

    // Assess
    expect(answer).toEqual({
      status: 200,
      xml: response(
        'SendMessage',
        '<MessageId>m-1</MessageId><MD5OfMessageBody>b5</MD5OfMessageBody>' +
          '<MD5OfMessageAttributes>a5</MD5OfMessageAttributes>',
      ),
    });
  });

  it('renders ReceiveMessage with attributes and message attributes', () => {
    // Prepare: a body with markup and a CR, which XML keeps only escaped
    const message = {
      MessageId: 'm-1',
      ReceiptHandle: 'r-1',
      MD5OfBody: 'b5',
      Body: '<a href="x">&\'\r\n',
      Attributes: { ApproximateReceiveCount: '1' },
      MessageAttributes: {
        'tasklane.reason': { DataType: 'String', StringValue: 'INVALID' },
        tags: { DataType: 'String.list', StringListValues: ['a', 'b'] },
      },
    };

    // Act
    const answer = renderQueryAnswer('ReceiveMessage', {
      status: 200,
      requestId: 'req-1',
      body: JSON.stringify({ Messages: [message] }),
    });

    // Assess
    expect(answer.xml).toBe(
      response(
        'ReceiveMessage',
        '<Message><MessageId>m-1</MessageId>' +
          '<ReceiptHandle>r-1</ReceiptHandle><MD5OfBody>b5</MD5OfBody>' +
          '<Body>&lt;a href=&quot;x&quot;&gt;&amp;&apos;&#xD;\n</Body>' +
          '<Attribute><Name>ApproximateReceiveCount</Name>' +
          '<Value>1</Value></Attribute>' +
          '<MessageAttribute><Name>tasklane.reason</Name><Value>' +
          '<DataType>String</DataType><StringValue>INVALID</StringValue>' +
          '</Value></MessageAttribute>' +
          '<MessageAttribute><Name>tags</Name><Value>' +
          '<DataType>String.list</DataType>' +
          '<StringListValue>a</StringListValue>' +
          '<StringListValue>b</StringListValue>' +
          '</Value></MessageAttribute></Message>',
      ),
    );
  });

  it('renders an empty ReceiveMessage as an empty result', () => {
    // Act
    const answer = renderQueryAnswer('ReceiveMessage', {
      status: 200,
      requestId: 'req-1',
      body: '{}',
    });

    // Assess
    expect(answer.xml).toBe(response('ReceiveMessage', ''));
  });

  it('renders GetQueueAttributes as Attribute elements', () => {
    // Act
    const answer = renderQueryAnswer('GetQueueAttributes', {
      status: 200,
      requestId: 'req-1',
      body: JSON.stringify({
        Attributes: { VisibilityTimeout: '30', DelaySeconds: '0' },
      }),
    });

    // Assess
    expect(answer.xml).toBe(
      response(
        'GetQueueAttributes',
        '<Attribute><Name>VisibilityTimeout</Name><Value>30</Value>' +
          '</Attribute><Attribute><Name>DelaySeconds</Name>' +
          '<Value>0</Value></Attribute>',
      ),
    );
  });

  it('renders SendMessageBatch successes and failures as entries', () => {
    // Act
    const answer = renderQueryAnswer('SendMessageBatch', {
      status: 200,
      requestId: 'req-1',
      body: JSON.stringify({
        Successful: [{ Id: 'a', MessageId: 'm-1', MD5OfMessageBody: 'b5' }],
        Failed: [
          { Id: 'b', SenderFault: true, Code: 'InvalidMessageContents' },
        ],
      }),
    });

    // Assess
    expect(answer.xml).toBe(
      response(
        'SendMessageBatch',
        '<SendMessageBatchResultEntry><Id>a</Id><MessageId>m-1</MessageId>' +
          '<MD5OfMessageBody>b5</MD5OfMessageBody>' +
          '</SendMessageBatchResultEntry>' +
          '<BatchResultErrorEntry><Id>b</Id><SenderFault>true</SenderFault>' +
          '<Code>InvalidMessageContents</Code></BatchResultErrorEntry>',
      ),
    );
  });

  it('renders ListQueues as one QueueUrl element per queue', () => {
    // Act
    const answer = renderQueryAnswer('ListQueues', {
      status: 200,
      requestId: 'req-1',
      body: JSON.stringify({ QueueUrls: [QUEUE_URL, `${QUEUE_URL}-dlq`] }),
    });

    // Assess
    expect(answer.xml).toBe(
      response(
        'ListQueues',
        `<QueueUrl>${QUEUE_URL}</QueueUrl>` +
          `<QueueUrl>${QUEUE_URL}-dlq</QueueUrl>`,
      ),
    );
  });

  it('renders an action without output as metadata alone', () => {
    // Act
    const answer = renderQueryAnswer('DeleteMessage', {
      status: 200,
      requestId: 'req-1',
      body: '{}',
    });

    // Assess
    expect(answer.xml).toBe(response('DeleteMessage', undefined));
  });

  it('renders an error with the query code fauxqs names, keeping the status', () => {
    // Act
    const answer = renderQueryAnswer('GetQueueUrl', {
      status: 400,
      requestId: 'req-1',
      queryError: 'AWS.SimpleQueueService.NonExistentQueue;Sender',
      body: JSON.stringify({
        __type: 'com.amazonaws.sqs#QueueDoesNotExist',
        message: 'The specified queue does not exist.',
      }),
    });

    // Assess
    expect(answer).toEqual({
      status: 400,
      xml:
        `${DECLARATION}<ErrorResponse ${NS}><Error><Type>Sender</Type>` +
        '<Code>AWS.SimpleQueueService.NonExistentQueue</Code>' +
        '<Message>The specified queue does not exist.</Message></Error>' +
        '<RequestId>req-1</RequestId></ErrorResponse>',
    });
  });

  it('takes the code from `__type` without a query code, by status fault', () => {
    // Act
    const answer = renderQueryAnswer('SendMessage', {
      status: 500,
      requestId: 'req-1',
      body: JSON.stringify({
        __type: 'com.amazonaws.sqs#InternalError',
        message: 'boom',
      }),
    });

    // Assess
    expect(answer.status).toBe(500);
    expect(answer.xml).toContain(
      '<Error><Type>Receiver</Type><Code>InternalError</Code>' +
        '<Message>boom</Message></Error>',
    );
  });
});
