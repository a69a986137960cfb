import { Annotations, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import type { SenderAllowlist } from './contracts.ts';
import { allowlistDenyConditions } from './ingress-allowlist.ts';

/** Steady and burst request rates, all senders together. */
export interface ThrottleSettings {
  /** Requests per second, 1 or more. */
  readonly rateLimit: number;
  /** Requests let through at once above the rate, 0 or more. */
  readonly burstLimit: number;
}

/** Props of the HTTPS endpoint; the ingress construct fills every one. */
export interface TaskHttpsApiProps {
  readonly prefix: string;
  readonly allowlist: SenderAllowlist;
  readonly handler: apigateway.LambdaIntegration;
  readonly throttle: ThrottleSettings;
  readonly securityPolicy: apigateway.SecurityPolicy;
  readonly cloudWatchRole: boolean;
  /** Encrypts the access logs. */
  readonly key: kms.IKey;
  /** WAFv2 web ACL of the stage. @default - none */
  readonly webAclArn?: string;
}

/** Stable id of the synth warning for an empty sender allowlist. */
export const OPEN_ENDPOINT_WARNING = 'tasklane:openIngressEndpoint';
/** Stable id of the synth warning for an allowlist no request can match. */
export const UNREACHABLE_ENDPOINT_WARNING =
  'tasklane:unreachableIngressEndpoint';

/** Stage of the API, the first segment of its path: `/v1/tasks`. */
export const STAGE_NAME = 'v1';

/**
 * The REST API in front of the ingress function: regional, `POST /tasks`
 * only, behind the sender allowlist, TLS 1.2 or newer, access-logged and
 * throttled.
 *
 * TLS: a regional API's default execute-api endpoint accepts TLS 1.0 unless
 * the API names a security policy, so the API itself gets one (by default
 * TLS 1.3 and 1.2 with forward secrecy) in strict endpoint access mode. A
 * custom domain mapped to the API negotiates with the API's policy, so no
 * domain is needed for R16.
 */
export class TaskHttpsApi extends Construct {
  readonly api: apigateway.RestApi;
  readonly accessLogGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: TaskHttpsApiProps) {
    super(scope, id);

    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', {
      retention: logs.RetentionDays.ONE_YEAR,
      encryptionKey: props.key,
    });
    this.api = new apigateway.RestApi(this, 'Api', {
      restApiName: `${props.prefix}-ingress`,
      description: `Accepts tasks over HTTPS for the ${props.prefix} pipeline`,
      endpointTypes: [apigateway.EndpointType.REGIONAL],
      policy: resourcePolicy(props.allowlist),
      // Execution and access logs need the account's API Gateway role.
      cloudWatchRole: props.cloudWatchRole,
      deployOptions: stageOptions(props, this.accessLogGroup),
    });
    requireTls(this.api, props.securityPolicy);
    this.warnAboutAllowlist(props.allowlist);

    const post = this.api.root
      .addResource('tasks')
      .addMethod('POST', props.handler, this.bodyMustBeObject());
    addGatewayResponses(this.api);
    this.protectStage(props.webAclArn);
    acknowledgeChecks(this.api, post);
  }

  private protectStage(webAclArn: string | undefined): void {
    const stage = this.api.deploymentStage;
    if (webAclArn) {
      new wafv2.CfnWebACLAssociation(this, 'WebAcl', {
        resourceArn: stage.stageArn,
        webAclArn,
      });
      return;
    }
    Validations.of(stage).acknowledge({
      id: 'AwsSolutions-APIG3',
      reason:
        'No web ACL unless one is configured (webAclArn): the resource ' +
        'policy admits only allowlisted senders (synth warns when there ' +
        'are none), the stage throttles, and the function validates every ' +
        'field of every request.',
    });
  }

  /**
   * The gateway turns away bodies that are not JSON objects; the function
   * checks each field, so every field error has the same shape.
   */
  private bodyMustBeObject(): apigateway.MethodOptions {
    const model = this.api.addModel('TaskBody', {
      contentType: 'application/json',
      modelName: 'TaskBody',
      schema: {
        schema: apigateway.JsonSchemaVersion.DRAFT4,
        title: 'task',
        type: apigateway.JsonSchemaType.OBJECT,
      },
    });
    const validator = this.api.addRequestValidator('BodyValidator', {
      validateRequestBody: true,
      // The method declares no parameters; any added later are checked.
      validateRequestParameters: true,
    });
    return {
      authorizationType: apigateway.AuthorizationType.NONE,
      requestValidator: validator,
      requestModels: { 'application/json': model },
    };
  }

  private warnAboutAllowlist(allowlist: SenderAllowlist): void {
    const { cidrs, vpcEndpointIds } = allowlist;
    if (cidrs.length === 0 && vpcEndpointIds.length === 0) {
      Annotations.of(this).addWarningV2(
        OPEN_ENDPOINT_WARNING,
        'the sender allowlist is empty: anyone on the internet may POST ' +
          'tasks; set allowlist CIDRs or VPC endpoint ids (R17)',
      );
    } else if (cidrs.length === 0) {
      Annotations.of(this).addWarningV2(
        UNREACHABLE_ENDPOINT_WARNING,
        'the sender allowlist has VPC endpoints but no CIDRs: requests ' +
          'through a VPC endpoint reach only private APIs, so this ' +
          'regional API admits no one; add the senders’ public CIDRs',
      );
    }
  }
}

/**
 * Allow, then deny whatever comes neither from an allowlisted CIDR nor
 * through an allowlisted VPC endpoint. `aws:SourceVpce` is set only on
 * requests through an execute-api interface endpoint, which reach private
 * APIs; for this regional API it admits nothing more today, and it keeps
 * the policy right if the API is made private. No allowlist: no policy.
 */
function resourcePolicy(
  allowlist: SenderAllowlist,
): iam.PolicyDocument | undefined {
  const deny = allowlistDenyConditions(allowlist);
  if (!deny) return undefined;
  const invoke = {
    principals: [new iam.AnyPrincipal()],
    actions: ['execute-api:Invoke'],
    resources: ['execute-api:/*'],
  };
  return new iam.PolicyDocument({
    statements: [
      new iam.PolicyStatement({ sid: 'AllowInvoke', ...invoke }),
      new iam.PolicyStatement({
        sid: 'DenyOutsideAllowlist',
        effect: iam.Effect.DENY,
        ...invoke,
        conditions: deny,
      }),
    ],
  });
}

function stageOptions(
  props: TaskHttpsApiProps,
  logGroup: logs.ILogGroup,
): apigateway.StageOptions {
  return {
    stageName: STAGE_NAME,
    throttlingRateLimit: props.throttle.rateLimit,
    throttlingBurstLimit: props.throttle.burstLimit,
    accessLogDestination: new apigateway.LogGroupLogDestination(logGroup),
    accessLogFormat: accessLogFormat(),
    loggingLevel: apigateway.MethodLoggingLevel.ERROR,
    tracingEnabled: true,
    // Request and response bodies carry payloads: never logged.
    dataTraceEnabled: false,
    metricsEnabled: true,
  };
}

/** One JSON object per request; TLS version and cipher to audit R16. */
function accessLogFormat(): apigateway.AccessLogFormat {
  const field = apigateway.AccessLogField;
  return apigateway.AccessLogFormat.custom(
    JSON.stringify({
      requestId: field.contextRequestId(),
      requestTime: field.contextRequestTime(),
      sourceIp: field.contextIdentitySourceIp(),
      userAgent: field.contextIdentityUserAgent(),
      method: field.contextHttpMethod(),
      path: field.contextResourcePath(),
      status: field.contextStatus(),
      responseLength: field.contextResponseLength(),
      latencyMs: field.contextResponseLatency(),
      integrationLatencyMs: field.contextIntegrationLatency(),
      error: field.contextErrorMessage(),
      tlsVersion: '$context.tlsVersion',
      cipherSuite: '$context.cipherSuite',
    }),
  );
}

const ENHANCED_POLICY = 'SecurityPolicy_';

/** Sets the API's own TLS policy; the L2 construct has no prop for it. */
function requireTls(
  api: apigateway.RestApi,
  policy: apigateway.SecurityPolicy,
): void {
  const cfn = api.node.defaultChild as apigateway.CfnRestApi;
  cfn.securityPolicy = policy;
  // Enhanced policies require an access mode; strict refuses connections
  // whose TLS server name does not match the API's own host name.
  if (policy.startsWith(ENHANCED_POLICY)) cfn.endpointAccessMode = 'STRICT';
}

/** Gateway errors in the same JSON shape as the function's. */
function addGatewayResponses(api: apigateway.RestApi): void {
  const body = (code: string) => ({
    'application/json':
      `{"code":"${code}","message":$context.error.messageString,` +
      '"errors":[]}',
  });
  api.addGatewayResponse('BadBody', {
    type: apigateway.ResponseType.BAD_REQUEST_BODY,
    statusCode: '400',
    templates: body('INVALID_BODY'),
  });
  api.addGatewayResponse('Throttled', {
    type: apigateway.ResponseType.THROTTLED,
    statusCode: '429',
    responseHeaders: { 'Retry-After': "'1'" },
    templates: body('THROTTLED'),
  });
}

/** Findings of cdk-nag and the Control Tower rules, with their reasons. */
function acknowledgeChecks(
  api: apigateway.RestApi,
  post: apigateway.Method,
): void {
  const senders =
    'Producers outside AWS hold no IAM or Cognito identity: R17 admits ' +
    'senders by source address, which the resource policy enforces, and ' +
    'every request is validated field by field before anything is queued.';
  Validations.of(post).acknowledge({
    id: 'AwsSolutions-APIG4',
    reason: senders,
  });
  Validations.of(post).acknowledge({
    id: 'AwsSolutions-COG4',
    reason: senders,
  });
  Validations.of(post).acknowledge({
    id: 'cdk-validator-cfnguard::lambda_function_public_access_prohibited_check',
    reason:
      'The permission names its caller in SourceArn: this API, its stage ' +
      'and POST /tasks only. The rule reads SourceArn only as a plain ' +
      'string or a single reference, not the Fn::Join this ARN needs.',
  });
  const role = api.node.tryFindChild('CloudWatchRole');
  if (role) {
    Validations.of(role).acknowledge({
      id:
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/' +
        'service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      reason:
        "API Gateway's account-wide logging role: the AWS-managed policy " +
        'is the documented one, and covers the execution log groups ' +
        'API Gateway names itself.',
    });
  }
}
