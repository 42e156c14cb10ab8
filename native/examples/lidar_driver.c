/*
 * A minimal lidar "driver" that publishes into an smi-fusion pool segment without Node, using
 * only native/include/smi_pool.h. The pool tests build and run it; it doubles as the example of
 * the C API.
 *
 *   lidar_driver publish      <segment> <channel> <frames> <points>   publish frames, then exit
 *   lidar_driver die-mid-write <segment> <channel> <points>           loan + half-write, then hang
 *   lidar_driver hold         <segment> <channel> <n>                 read n frames, hold them, hang
 *
 * Frame `seq` (1-based) has `points` records {x, y, z, intensity} (float32, 16 bytes):
 * x = seq + 0.5 i, y = i, z = -1.5, intensity = (seq * 31 + i) % 256.
 * Build: gcc -O2 -std=gnu11 -Inative/include native/examples/lidar_driver.c -o lidar_driver
 */
#include "smi_pool.h"

#include <stdlib.h>

static int open_channel(const char *segment, const char *name, smi_pool *pool, smi_channel *ch) {
  char err[256];
  if (smi_pool_open(pool, segment, err, sizeof err) != 0) {
    fprintf(stderr, "%s\n", err);
    return 2;
  }
  if (smi_channel_find(pool, name, ch) != 0) {
    fprintf(stderr, "pool segment '%s': no channel '%s'\n", segment, name);
    return 2;
  }
  return 0;
}

static void fill_frame(float *p, uint32_t seq, uint32_t from, uint32_t to) {
  for (uint32_t i = from; i < to; i++) {
    p[i * 4 + 0] = (float)seq + 0.5f * (float)i;
    p[i * 4 + 1] = (float)i;
    p[i * 4 + 2] = -1.5f;
    p[i * 4 + 3] = (float)((seq * 31u + i) % 256u);
  }
}

static int publish(smi_channel *ch, uint32_t frames, uint32_t points) {
  smi_writer w;
  char err[256];
  if (smi_writer_open(&w, ch, 42, err, sizeof err) != 0) {
    fprintf(stderr, "%s\n", err);
    return 2;
  }
  for (uint32_t seq = 1; seq <= frames; seq++) {
    int32_t slot = smi_writer_loan_wait(&w, 5000);
    if (slot < 0) {
      fprintf(stderr, "no free slot for frame %u within 5 s\n", seq);
      return 3;
    }
    fill_frame((float *)smi_slot_data(ch, slot), seq, 0, points);
    uint64_t stamp = smi_monotonic_ns();
    int rc = smi_writer_commit(&w, slot, points * 16u, seq, stamp, smi_monotonic_ns());
    if (rc != 0) {
      fprintf(stderr, "commit of frame %u failed: %d\n", seq, rc);
      return 3;
    }
  }
  smi_writer_close(&w);
  printf("PUBLISHED %u\n", frames);
  return 0;
}

static int die_mid_write(smi_channel *ch, uint32_t points) {
  smi_writer w;
  char err[256];
  if (smi_writer_open(&w, ch, 43, err, sizeof err) != 0) {
    fprintf(stderr, "%s\n", err);
    return 2;
  }
  int32_t slot = smi_writer_loan(&w);
  if (slot < 0) return 3;
  fill_frame((float *)smi_slot_data(ch, slot), 999, 0, points / 2); /* half a frame, never committed */
  printf("WROTE %d\n", slot);
  fflush(stdout);
  for (;;) pause(); /* the test SIGKILLs us here, between write and commit */
}

static int hold(smi_channel *ch, uint32_t n) {
  smi_reader r;
  if (smi_reader_open(&r, ch, SMI_ACCESS_SEQUENTIAL) != 0) {
    fprintf(stderr, "no free reader entry\n");
    return 2;
  }
  printf("READER %u\n", r.entry);
  fflush(stdout);
  for (uint32_t got = 0; got < n;) {
    if (!smi_reader_wait(&r, 10000)) {
      fprintf(stderr, "no frame within 10 s\n");
      return 3;
    }
    while (got < n && smi_reader_next(&r) >= 0) got++; /* taken, never released */
  }
  printf("HELD %u\n", n);
  fflush(stdout);
  for (;;) pause(); /* the test SIGKILLs us here, holding n slots */
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: %s publish|die-mid-write|hold <segment> <channel> <n> [points]\n", argv[0]);
    return 2;
  }
  smi_pool pool;
  smi_channel ch;
  int rc = open_channel(argv[2], argv[3], &pool, &ch);
  if (rc != 0) return rc;
  uint32_t n = (uint32_t)strtoul(argv[4], NULL, 10);
  if (strcmp(argv[1], "publish") == 0 && argc >= 6) rc = publish(&ch, n, (uint32_t)strtoul(argv[5], NULL, 10));
  else if (strcmp(argv[1], "die-mid-write") == 0) rc = die_mid_write(&ch, n);
  else if (strcmp(argv[1], "hold") == 0) rc = hold(&ch, n);
  else {
    fprintf(stderr, "unknown mode '%s'\n", argv[1]);
    rc = 2;
  }
  smi_pool_close(&pool);
  return rc;
}
