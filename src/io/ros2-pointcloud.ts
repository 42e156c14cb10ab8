/**
 * sensor_msgs/msg/PointCloud2 → a lidar payload in our layout (x, y, z, intensity float32, stride
 * 16), for any field layout with x, y and z and, optionally, an intensity-like field; organised
 * (height > 1) or not, either byte order. Points with a non-finite coordinate (no return, in
 * organised clouds) are left out: ingest refuses NaN. One pass over the data, no per-point objects.
 */

/** sensor_msgs/msg/PointField datatypes and their sizes. */
const TYPE_BYTES: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 2, 5: 4, 6: 4, 7: 4, 8: 8 };
const TYPE_NAMES: Record<number, string> = {
  1: 'INT8',
  2: 'UINT8',
  3: 'INT16',
  4: 'UINT16',
  5: 'INT32',
  6: 'UINT32',
  7: 'FLOAT32',
  8: 'FLOAT64',
};
/** Largest value of each integer type: the default intensity scale is 1 / this. */
const TYPE_MAX: Record<number, number> = {
  1: 127,
  2: 255,
  3: 32767,
  4: 65535,
  5: 2 ** 31 - 1,
  6: 2 ** 32 - 1,
};

/** Intensity-like field names, tried in order when the mapping names none. */
export const INTENSITY_FIELDS = ['intensity', 'i', 'reflectivity', 'intensities'] as const;

export interface PointField {
  name: string;
  offset: number;
  datatype: number;
  count: number;
}

export interface PointCloud2 {
  header: { stamp: { sec: number; nanosec: number }; frame_id: string };
  height: number;
  width: number;
  fields: PointField[];
  is_bigendian: boolean;
  point_step: number;
  row_step: number;
  data: Uint8Array;
}

export interface CloudOptions {
  intensityField?: string;
  intensityScale?: number;
  /** Row-major 3×3 rotation applied to every point (the mount's roll and pitch); undefined = none. */
  rotation?: Float64Array;
}

export interface ConvertedCloud {
  /** x, y, z, intensity float32 records; `count` of them. */
  points: Float32Array;
  count: number;
  /** Points left out for a non-finite coordinate. */
  nonFinite: number;
  /** The field used as intensity, or undefined (intensity 0). */
  intensityField: string | undefined;
  /** Intensities that fell outside 0..1 after scaling and were clamped. */
  clamped: number;
}

type Read = (view: DataView, at: number, little: boolean) => number;
const READERS: Record<number, Read> = {
  1: (v, o) => v.getInt8(o),
  2: (v, o) => v.getUint8(o),
  3: (v, o, le) => v.getInt16(o, le),
  4: (v, o, le) => v.getUint16(o, le),
  5: (v, o, le) => v.getInt32(o, le),
  6: (v, o, le) => v.getUint32(o, le),
  7: (v, o, le) => v.getFloat32(o, le),
  8: (v, o, le) => v.getFloat64(o, le),
};

/** Converts one cloud, or returns the reason it cannot be (what is wrong and what is needed). */
export function convertPointCloud2(msg: PointCloud2, o: CloudOptions = {}): ConvertedCloud | string {
  const byName = new Map(msg.fields.map((f) => [f.name, f]));
  const names = msg.fields.map((f) => f.name).join(', ') || 'none';
  for (const axis of ['x', 'y', 'z']) {
    if (!byName.has(axis))
      return `PointCloud2 has no field '${axis}' (fields: ${names}); x, y and z are needed`;
  }
  const step = msg.point_step;
  const check = (f: PointField): string | undefined => {
    const size = TYPE_BYTES[f.datatype];
    if (size === undefined)
      return `field '${f.name}' has datatype ${f.datatype}; allowed: 1-8 (INT8 .. FLOAT64)`;
    if (f.offset + size > step)
      return `field '${f.name}' (${TYPE_NAMES[f.datatype]} at offset ${f.offset}) does not fit in point_step ${step}`;
    return undefined;
  };
  const [fx, fy, fz] = ['x', 'y', 'z'].map((n) => byName.get(n)!);
  let fi: PointField | undefined;
  if (o.intensityField !== undefined) {
    fi = byName.get(o.intensityField);
    if (!fi)
      return `PointCloud2 has no field '${o.intensityField}' (the mapping's intensityField; fields: ${names})`;
  } else {
    fi = INTENSITY_FIELDS.map((n) => byName.get(n)).find((f) => f !== undefined);
  }
  for (const f of [fx!, fy!, fz!, ...(fi ? [fi] : [])]) {
    const bad = check(f);
    if (bad) return bad;
  }
  const rows = msg.height;
  const cols = msg.width;
  if (!(step > 0) || msg.row_step < cols * step) {
    return `PointCloud2 row_step ${msg.row_step} is less than width ${cols} x point_step ${step}`;
  }
  if (msg.data.byteLength < (rows - 1) * msg.row_step + cols * step && rows * cols > 0) {
    return `PointCloud2 data is ${msg.data.byteLength} bytes; height ${rows} x row_step ${msg.row_step} needs ${rows * msg.row_step}`;
  }
  const view = new DataView(msg.data.buffer, msg.data.byteOffset, msg.data.byteLength);
  const le = !msg.is_bigendian;
  const rx = READERS[fx!.datatype]!;
  const ry = READERS[fy!.datatype]!;
  const rz = READERS[fz!.datatype]!;
  const ri = fi ? READERS[fi.datatype]! : undefined;
  const scale = o.intensityScale ?? (fi && TYPE_MAX[fi.datatype] ? 1 / TYPE_MAX[fi.datatype]! : 1);
  const r = o.rotation;
  const out = new Float32Array(rows * cols * 4);
  let n = 0;
  let nonFinite = 0;
  let clamped = 0;
  for (let row = 0; row < rows; row++) {
    for (let col = 0; col < cols; col++) {
      const p = row * msg.row_step + col * step;
      let x = rx(view, p + fx!.offset, le);
      let y = ry(view, p + fy!.offset, le);
      let z = rz(view, p + fz!.offset, le);
      if (!Number.isFinite(x) || !Number.isFinite(y) || !Number.isFinite(z)) {
        nonFinite++;
        continue;
      }
      if (r) {
        const tx = r[0]! * x + r[1]! * y + r[2]! * z;
        const ty = r[3]! * x + r[4]! * y + r[5]! * z;
        z = r[6]! * x + r[7]! * y + r[8]! * z;
        x = tx;
        y = ty;
      }
      let i = ri ? ri(view, p + fi!.offset, le) * scale : 0;
      if (!(i >= 0 && i <= 1)) {
        i = i > 1 ? 1 : 0; // NaN and negatives become 0
        clamped++;
      }
      const q = n * 4;
      out[q] = x;
      out[q + 1] = y;
      out[q + 2] = z;
      out[q + 3] = i;
      n++;
    }
  }
  // A float32 overflow (a float64 coordinate beyond float32's range) would become Inf: refuse it.
  for (let k = 0; k < n * 4; k++) {
    if (!Number.isFinite(out[k]!))
      return `PointCloud2 holds a coordinate beyond float32's range (point ${k >> 2})`;
  }
  return { points: out, count: n, nonFinite, intensityField: fi?.name, clamped };
}
