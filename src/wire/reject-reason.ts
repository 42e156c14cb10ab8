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
  'implausible', // a payload field outside its physical range (README, Plausibility); the detail names it
  'bad_box', // a camera box is inverted
  'bad_covariance', // an objects covariance is not positive semidefinite
  'stamp_future', // stampNs later than now + the allowed skew
  'stamp_stale', // stampNs older than now - the allowed age
  'stamp_backwards', // stampNs went back while seq went on (a clock jump: followed after 3 in a row)
  'duplicate', // seq and stampNs not after the sensor's previous accepted message (a repeat or replay)
  'not_allowed', // a TrafficTarget does not let this producer write this channel
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/** A refused message: the reason label plus a human detail naming the field and what is allowed. */
export interface Rejection {
  reason: RejectReason;
  detail: string;
}
