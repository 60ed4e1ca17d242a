// One DynamoDB document client per execution environment (connections are reused).
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export function createDynamo({ region, dynamoEndpoint }) {
  // Socket bounds for every call (sessions, health): a DynamoDB endpoint that accepts connections and then says
  // nothing must not hold a request for the SDK's default (no timeout). The cache tier bounds its own calls
  // tighter (DYNAMODB_TIMEOUT_MS, src/cache.mjs).
  const options = { region, maxAttempts: 3, requestHandler: { connectionTimeout: 1000, requestTimeout: 2000 } };
  if (dynamoEndpoint) {
    options.endpoint = dynamoEndpoint;
    // Local emulators accept any key; don't make developers configure AWS credentials.
    if (!process.env.AWS_ACCESS_KEY_ID) options.credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
  }
  const client = new DynamoDBClient(options);
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}
