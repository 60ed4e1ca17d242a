// The waiting room's table on a local DynamoDB stand-in (moto): tests, the benchmark, local runs.
import { CreateTableCommand, DynamoDBClient, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { tableDefinition } from '../src/waiting-room.mjs';

export async function createWaitingRoomTable({ endpoint, name, region = 'us-east-1' }) {
  const client = new DynamoDBClient({ endpoint, region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  try {
    await client.send(new CreateTableCommand(tableDefinition(name)));
    await waitUntilTableExists({ client, maxWaitTime: 30 }, { TableName: name });
  } finally {
    client.destroy();
  }
}
