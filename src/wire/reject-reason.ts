/**
 * Why ingest refused a message. Each reason is a label value of
 * `smi_ingest_rejected_total{sensor,reason}` and is documented in README.
 */
export const REJECT_REASONS = [
  'bad_frame_count', // not [topic, header] or [topic, header, payload]
  'unknown_topic', // topic is not sensor/<lidar|radar|camera|ego>/<sensorId>
  'unknown_sensor', // sensorId not in the pipeline's sensors
  'malformed_header', // header is not a msgpack map, or is oversized
  'missing_field', // a required header field is absent
  'bad_type', // a header field has the wrong type or range
  'bad_version', // header v is not a supported wire version
  'topic_mismatch', // header kind/sensorId disagree with the topic
  'bad_layout', // fields/stride are not the kind's layout
  'length_mismatch', // payload bytes != count * stride (or payload missing)
  'too_large', // payload larger than the channel's slot
  'non_finite', // NaN or Inf in the payload
  'bad_class', // a record's classId is not an ObjectClass
  'bad_score', // a record's score or confidence is outside 0..1
  'bad_size', // a record's box size is negative
  'bad_box', // a camera box is inverted or outside any image
  'bad_covariance', // a record's variance is negative, or its covariance not positive semidefinite
  'out_of_range', // a record's position, range or speed is physically impossible (e.g. kilometres away)
  'stamp_future', // stampNs later than now + the allowed skew
  'stamp_stale', // stampNs older than now - the allowed age
  'stamp_backwards', // stampNs not later than the sensor's previous accepted stamp
  'seq_backwards', // seq not greater than the sensor's previous accepted seq
  'not_allowed', // a TrafficTarget does not let this producer write this channel
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/** A refused message: the reason label plus a human detail naming the field and what is allowed. */
export interface Rejection {
  reason: RejectReason;
  detail: string;
}
