// One DynamoDB document client per execution environment (connections are reused).
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export function createDynamo({ region, dynamoEndpoint }) {
  const options = { region, maxAttempts: 3 };
  if (dynamoEndpoint) {
    options.endpoint = dynamoEndpoint;
    // Local emulators accept any key; don't make developers configure AWS credentials.
    if (!process.env.AWS_ACCESS_KEY_ID) options.credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
  }
  const client = new DynamoDBClient(options);
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}
