/**
 * What Foxglove Studio (1.48) does when it opens an MCAP file, restated for tests: every channel's
 * message encoding must be one its `parseChannel` accepts (json with a jsonschema or no schema;
 * cdr with a ros2msg or ros2idl schema; protobuf; flatbuffer; ros1 with ros1msg), or it lists the
 * channel in the Problems panel ("Unsupported encoding ...") and hides the topic; and each message
 * must decode with the reader it picks. We decode cdr with the same libraries Studio bundles
 * (@foxglove/rosmsg to parse the schema, @foxglove/rosmsg2-serialization to read) and json with
 * JSON.parse. The real Studio 1.48 code was also run headless over drives (see README, "Drives").
 */
import { parse } from '@foxglove/rosmsg';
import { MessageReader } from '@foxglove/rosmsg2-serialization';
import { DriveReader } from '../io/mcap-drive-reader.js';

/** Message/schema encoding pairs Studio 1.48's parseChannel accepts (a missing schema is ''). */
const ACCEPTED: Record<string, readonly string[]> = {
  json: ['', 'jsonschema'],
  cdr: ['ros2msg', 'ros2idl'],
  protobuf: ['protobuf'],
  flatbuffer: ['flatbuffer'],
  ros1: ['ros1msg'],
};

export interface FoxgloveCheck {
  /** What Studio would list as problems, one per channel or message. */
  problems: string[];
  /** Messages decoded per topic. */
  decoded: Map<string, number>;
}

/** Reads every record of an MCAP file and reports what Studio would complain about. */
export async function foxgloveProblems(path: string): Promise<FoxgloveCheck> {
  const problems: string[] = [];
  const decoded = new Map<string, number>();
  const readers = new Map<number, ((data: Uint8Array) => unknown) | undefined>();
  const reader = new DriveReader(path);
  for await (const r of reader.records()) {
    if (r.type !== 'message') continue;
    const ch = r.message.channel;
    let read = readers.get(ch.id);
    if (!readers.has(ch.id)) {
      const schemaEncoding = ch.schema?.encoding ?? '';
      if (!ACCEPTED[ch.messageEncoding]?.includes(schemaEncoding)) {
        problems.push(
          `${ch.topic}: message encoding '${ch.messageEncoding}' with schema encoding '${schemaEncoding}' is not supported`,
        );
      } else if (ch.messageEncoding === 'cdr') {
        const text = new TextDecoder().decode(ch.schema!.data);
        const ros = new MessageReader(parse(text, { ros2: true }));
        read = (data) => ros.readMessage(data);
      } else if (ch.messageEncoding === 'json') {
        read = (data) => JSON.parse(new TextDecoder().decode(data));
      } else {
        problems.push(`${ch.topic}: encoding '${ch.messageEncoding}' is accepted but not checked here`);
      }
      readers.set(ch.id, read);
    }
    if (!read) continue;
    try {
      read(r.message.data);
      decoded.set(ch.topic, (decoded.get(ch.topic) ?? 0) + 1);
    } catch (err) {
      problems.push(`${ch.topic}: message ${r.message.sequence} does not decode: ${(err as Error).message}`);
    }
  }
  return { problems, decoded };
}
