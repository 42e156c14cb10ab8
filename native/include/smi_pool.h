/*
 * smi_pool.h — open an smi-fusion pool segment and publish into (or read from) a channel, from
 * C or C++, without Node. Header-only (static inline); Linux (shm_open, mmap, futex).
 *
 * The byte layout and the protocol are described in native/LAYOUT.md; src/pool/layout.ts is the
 * same layout for TypeScript. This file is also the ring the Node addon runs ("native ring"), so
 * a driver built on it and the service speak exactly the same protocol.
 *
 * Typical driver:
 *
 *   smi_pool pool; smi_channel ch; smi_writer w; char err[256];
 *   if (smi_pool_open(&pool, "/smi-fusion-onboard", err, sizeof err) != 0) { puts(err); return 1; }
 *   if (smi_channel_find(&pool, "lidar_top", &ch) != 0) return 1;
 *   if (smi_writer_open(&w, &ch, 7, err, sizeof err) != 0) { puts(err); return 1; }
 *   int32_t slot = smi_writer_loan_wait(&w, 100);         // -1: every slot busy (counted)
 *   float *pts = (float *)smi_slot_data(&ch, slot);       // write the payload in place
 *   ...
 *   smi_writer_commit(&w, slot, bytes, seq, stamp_ns, smi_monotonic_ns());
 *   smi_writer_close(&w); smi_pool_close(&pool);
 *
 * Error codes are negative SMI_E* values; functions taking `err` also write a sentence there.
 */
#ifndef SMI_POOL_H
#define SMI_POOL_H

/* POSIX and Linux calls (shm_open, kill, syscall): include this header first, or build with
 * -std=gnu11 / -D_GNU_SOURCE. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- layout (native/LAYOUT.md) ---------------------------------------------------------- */
#define SMI_POOL_MAGIC 0x504d4953u /* bytes "SIMP" in memory (little-endian u32 0x504d4953) */
#define SMI_LAYOUT_VERSION 3u
#define SMI_SEGMENT_HEADER_BYTES 128u
#define SMI_CHANNEL_HEADER_BYTES 256u
#define SMI_SLOT_META_BYTES 64u
#define SMI_READER_ENTRY_BYTES 64u
#define SMI_RING_ENTRY_BYTES 8u
#define SMI_MAX_READERS 16u
#define SMI_CHANNEL_NAME_BYTES 64u

/* segment header */
#define SMI_SEG_MAGIC 0u
#define SMI_SEG_VERSION 4u
#define SMI_SEG_CHANNEL_COUNT 8u
#define SMI_SEG_FLAGS 12u
#define SMI_SEG_TOTAL_LO 16u
#define SMI_SEG_TOTAL_HI 20u
#define SMI_SEG_CREATOR_PID 24u
#define SMI_SEG_READY 28u
#define SMI_SEG_FLAG_SHM 1u

/* channel header */
#define SMI_CH_SLOT_COUNT 0u
#define SMI_CH_SLOT_BYTES 4u
#define SMI_CH_RING_SIZE 8u
#define SMI_CH_READER_COUNT 12u
#define SMI_CH_META_OFFSET 16u
#define SMI_CH_READER_OFFSET 20u
#define SMI_CH_RING_OFFSET 24u
#define SMI_CH_DATA_OFFSET 28u
#define SMI_CH_NAME 32u
#define SMI_CH_DROPPED_FULL 96u
#define SMI_CH_OVERWRITTEN 100u
#define SMI_CH_TORN_RETRIES 104u
#define SMI_CH_RECLAIMED_SLOTS 108u
#define SMI_CH_RECLAIMED_READERS 112u
#define SMI_CH_TOO_LARGE 116u
#define SMI_CH_BACKPRESSURE 120u
#define SMI_CH_DEAD_WRITERS 124u
#define SMI_CH_COMMIT_SEQ 128u
#define SMI_CH_COMMIT_WAITERS 132u
#define SMI_CH_WRITER_PID 136u
#define SMI_CH_WRITER_EPOCH 140u
#define SMI_CH_FULL_POLICY 144u
#define SMI_CH_DROPPED_OLDEST 148u
#define SMI_CH_RELEASE_SEQ 192u
#define SMI_CH_RELEASE_WAITERS 196u
#define SMI_CH_SEQ_READER_MASK 200u

/* slot meta */
#define SMI_META_STATE 0u
#define SMI_META_COMMIT_INDEX 4u
#define SMI_META_OWNER_PID 8u
#define SMI_META_LENGTH 12u
#define SMI_META_SEQ 16u
#define SMI_META_PRODUCER_ID 20u
#define SMI_META_STAMP_LO 24u
#define SMI_META_STAMP_HI 28u
#define SMI_META_COMMIT_LO 32u
#define SMI_META_COMMIT_HI 36u

/* reader entry */
#define SMI_RD_PID 0u
#define SMI_RD_MODE 4u
#define SMI_RD_BOUND 8u
#define SMI_RD_EPOCH 12u
#define SMI_RD_CURSOR 16u
#define SMI_RD_PROGRESS 20u
#define SMI_RECLAIMING 0xffffffffu
#define SMI_ACCESS_SEQUENTIAL 1u
#define SMI_ACCESS_LATEST 2u

/* ring entry */
#define SMI_RING_COMMIT_INDEX 0u
#define SMI_RING_SLOT 4u

/* full policy: what a loan does when every slot is busy */
#define SMI_FULL_DROP_NEWEST 0u /* refuse the loan (droppedFull) */
#define SMI_FULL_DROP_OLDEST 1u /* free the oldest commit a sequential reader has not taken (droppedOldest) */

#define SMI_SLOT_FREE 0
#define SMI_SLOT_WRITING ((int32_t)0x80000000u)

/* errors (negative) */
#define SMI_ENONE (-1)     /* nothing available (no slot free, no descriptor pending) */
#define SMI_EEVICTED (-2)  /* this reader's entry was reclaimed: open a new reader */
#define SMI_ETOOLARGE (-3) /* commit length exceeds the slot; the slot was abandoned */
#define SMI_EDOUBLE (-4)   /* release of a slot this reader does not hold */
#define SMI_EBUSY (-5)     /* channel has a live writer / no free reader entry */
#define SMI_EFORMAT (-6)   /* not a segment of this layout */
#define SMI_ESYS (-7)      /* a system call failed; see errno */
#define SMI_ERANGE (-8)    /* bad channel or slot index */

/* ---- small helpers ------------------------------------------------------------------------ */
#define SMI_SC __ATOMIC_SEQ_CST

typedef struct smi_pool {
  uint8_t *base;
  size_t size;
} smi_pool;

typedef struct smi_channel {
  uint8_t *base; /* segment base */
  uint32_t index;
  uint32_t hdr; /* channel header offset */
  uint32_t slot_count, slot_bytes, ring_size, meta, readers, ring, data;
} smi_channel;

typedef struct smi_desc {
  uint32_t slot, length, seq, producer_id, commit_index;
  uint64_t stamp_ns, commit_ns;
} smi_desc;

static inline uint32_t *smi_u32(uint8_t *base, size_t off) { return (uint32_t *)(base + off); }
static inline int32_t *smi_i32(uint8_t *base, size_t off) { return (int32_t *)(base + off); }
static inline uint32_t smi_load(uint8_t *base, size_t off) { return __atomic_load_n(smi_u32(base, off), SMI_SC); }
static inline void smi_store(uint8_t *base, size_t off, uint32_t v) { __atomic_store_n(smi_u32(base, off), v, SMI_SC); }
static inline void smi_count(uint8_t *base, size_t off, uint32_t n) { __atomic_fetch_add(smi_u32(base, off), n, SMI_SC); }

static inline size_t smi_state_off(const smi_channel *c, uint32_t slot) { return c->meta + (size_t)slot * SMI_SLOT_META_BYTES; }
static inline size_t smi_entry_off(const smi_channel *c, uint32_t r) { return c->readers + (size_t)r * SMI_READER_ENTRY_BYTES; }
static inline size_t smi_ring_off(const smi_channel *c, uint32_t commit) { return c->ring + (size_t)(commit & (c->ring_size - 1)) * SMI_RING_ENTRY_BYTES; }

/** Payload of `slot`, 64-byte aligned, `slot_bytes` long. */
static inline void *smi_slot_data(const smi_channel *c, int32_t slot) {
  return c->base + c->data + (size_t)slot * c->slot_bytes;
}

/** CLOCK_MONOTONIC in nanoseconds: the time base of every stamp in the pipeline. */
static inline uint64_t smi_monotonic_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/** True while `pid` exists (EPERM means it exists under another user). A zombie still counts. */
static inline int smi_pid_alive(uint32_t pid) {
  if (pid == 0 || pid == SMI_RECLAIMING || pid > (uint32_t)INT_MAX) return 0;
  return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

/* Shared (not PRIVATE) futex ops: waiters in other processes map the same page elsewhere. */
static inline int smi_futex_wait(uint32_t *word, uint32_t expected, int timeout_ms) {
  struct timespec ts, *tsp = NULL;
  if (timeout_ms >= 0) {
    ts.tv_sec = timeout_ms / 1000;
    ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000L;
    tsp = &ts;
  }
  return (int)syscall(SYS_futex, word, FUTEX_WAIT, expected, tsp, NULL, 0);
}

static inline void smi_futex_wake(uint32_t *word) { syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0); }

/** Bumps a wait word and wakes its sleepers, if any registered (no syscall otherwise). */
static inline void smi_bump_and_wake(uint8_t *base, size_t word_off, size_t waiters_off) {
  __atomic_fetch_add(smi_u32(base, word_off), 1u, SMI_SC);
  if (__atomic_load_n(smi_i32(base, waiters_off), SMI_SC) > 0) smi_futex_wake(smi_u32(base, word_off));
}

/**
 * Sleeps while the word at `word_off` equals `expected`, at most `timeout_ms` (< 0: no limit).
 * Registers in `waiters_off` first so that a waker only makes the futex call when someone sleeps.
 * Returns 1 when the word changed, 0 on time-out.
 */
static inline int smi_wait_word(uint8_t *base, size_t word_off, size_t waiters_off, uint32_t expected, int timeout_ms) {
  uint64_t deadline = timeout_ms >= 0 ? smi_monotonic_ns() + (uint64_t)timeout_ms * 1000000ull : 0;
  __atomic_fetch_add(smi_i32(base, waiters_off), 1, SMI_SC);
  int changed = 0;
  for (;;) {
    if (__atomic_load_n(smi_u32(base, word_off), SMI_SC) != expected) { changed = 1; break; }
    int left = -1;
    if (timeout_ms >= 0) {
      uint64_t now = smi_monotonic_ns();
      if (now >= deadline) break;
      left = (int)((deadline - now + 999999ull) / 1000000ull);
    }
    smi_futex_wait(smi_u32(base, word_off), expected, left); /* EINTR/EAGAIN: check again */
  }
  __atomic_fetch_sub(smi_i32(base, waiters_off), 1, SMI_SC);
  return changed;
}

/* ---- segment ------------------------------------------------------------------------------ */

/** Checks magic, version, readiness and size of a mapped segment. */
static inline int smi_pool_check(const smi_pool *p, char *err, size_t errlen) {
  if (p->size < SMI_SEGMENT_HEADER_BYTES || smi_load(p->base, SMI_SEG_MAGIC) != SMI_POOL_MAGIC) {
    if (err) snprintf(err, errlen, "pool segment: bad magic; this is not an smi-fusion pool segment");
    return SMI_EFORMAT;
  }
  uint32_t v = smi_load(p->base, SMI_SEG_VERSION);
  if (v != SMI_LAYOUT_VERSION) {
    if (err) snprintf(err, errlen, "pool segment: layout version %u, this build speaks version %u", v, SMI_LAYOUT_VERSION);
    return SMI_EFORMAT;
  }
  if (smi_load(p->base, SMI_SEG_READY) != 1) {
    if (err) snprintf(err, errlen, "pool segment: not ready (its creator has not finished writing the headers)");
    return SMI_EFORMAT;
  }
  uint64_t total = (uint64_t)smi_load(p->base, SMI_SEG_TOTAL_LO) | ((uint64_t)smi_load(p->base, SMI_SEG_TOTAL_HI) << 32);
  if (total != p->size) {
    if (err) snprintf(err, errlen, "pool segment: header says %llu bytes, the mapping has %llu", (unsigned long long)total, (unsigned long long)p->size);
    return SMI_EFORMAT;
  }
  return 0;
}

/** Maps an existing segment by its POSIX shm name (e.g. "/smi-fusion-onboard") and checks it. */
static inline int smi_pool_open(smi_pool *p, const char *name, char *err, size_t errlen) {
  p->base = NULL;
  p->size = 0;
  int fd = shm_open(name, O_RDWR, 0);
  if (fd < 0) {
    if (err) snprintf(err, errlen, "pool segment '%s': shm_open failed: %s", name, strerror(errno));
    return SMI_ESYS;
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    if (err) snprintf(err, errlen, "pool segment '%s': fstat failed: %s", name, strerror(errno));
    close(fd);
    return SMI_ESYS;
  }
  void *m = st.st_size > 0 ? mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) : MAP_FAILED;
  int saved = errno;
  close(fd);
  if (m == MAP_FAILED) {
    if (err) snprintf(err, errlen, "pool segment '%s': mmap of %lld bytes failed: %s", name, (long long)st.st_size, strerror(saved));
    return SMI_ESYS;
  }
  p->base = (uint8_t *)m;
  p->size = (size_t)st.st_size;
  int rc = smi_pool_check(p, err, errlen);
  if (rc != 0) {
    munmap(m, p->size);
    p->base = NULL;
  }
  return rc;
}

static inline void smi_pool_close(smi_pool *p) {
  if (p->base) munmap(p->base, p->size);
  p->base = NULL;
}

static inline uint32_t smi_pool_channel_count(const smi_pool *p) { return smi_load(p->base, SMI_SEG_CHANNEL_COUNT); }

/** Fills `c` for channel `index`. */
static inline int smi_channel_get(const smi_pool *p, uint32_t index, smi_channel *c) {
  if (index >= smi_pool_channel_count(p)) return SMI_ERANGE;
  uint32_t h = SMI_SEGMENT_HEADER_BYTES + index * SMI_CHANNEL_HEADER_BYTES;
  c->base = p->base;
  c->index = index;
  c->hdr = h;
  c->slot_count = smi_load(p->base, h + SMI_CH_SLOT_COUNT);
  c->slot_bytes = smi_load(p->base, h + SMI_CH_SLOT_BYTES);
  c->ring_size = smi_load(p->base, h + SMI_CH_RING_SIZE);
  c->meta = smi_load(p->base, h + SMI_CH_META_OFFSET);
  c->readers = smi_load(p->base, h + SMI_CH_READER_OFFSET);
  c->ring = smi_load(p->base, h + SMI_CH_RING_OFFSET);
  c->data = smi_load(p->base, h + SMI_CH_DATA_OFFSET);
  return 0;
}

/** Finds a channel by name. */
static inline int smi_channel_find(const smi_pool *p, const char *name, smi_channel *c) {
  uint32_t n = smi_pool_channel_count(p);
  for (uint32_t i = 0; i < n; i++) {
    const char *nm = (const char *)p->base + SMI_SEGMENT_HEADER_BYTES + i * SMI_CHANNEL_HEADER_BYTES + SMI_CH_NAME;
    if (strncmp(nm, name, SMI_CHANNEL_NAME_BYTES) == 0) return smi_channel_get(p, i, c);
  }
  return SMI_ERANGE;
}

/** Copies the descriptor of a slot this caller holds (its meta is stable while held). */
static inline void smi_read_desc(const smi_channel *c, int32_t slot, smi_desc *d) {
  size_t m = smi_state_off(c, (uint32_t)slot);
  uint8_t *b = c->base;
  d->slot = (uint32_t)slot;
  d->commit_index = smi_load(b, m + SMI_META_COMMIT_INDEX);
  d->length = smi_load(b, m + SMI_META_LENGTH);
  d->seq = smi_load(b, m + SMI_META_SEQ);
  d->producer_id = smi_load(b, m + SMI_META_PRODUCER_ID);
  d->stamp_ns = (uint64_t)smi_load(b, m + SMI_META_STAMP_LO) | ((uint64_t)smi_load(b, m + SMI_META_STAMP_HI) << 32);
  d->commit_ns = (uint64_t)smi_load(b, m + SMI_META_COMMIT_LO) | ((uint64_t)smi_load(b, m + SMI_META_COMMIT_HI) << 32);
}

/** Drops reader-entry `entry`'s reference to `slot`; the last reference frees it and wakes writers. */
static inline int smi_release_entry(const smi_channel *c, uint32_t entry, int32_t slot) {
  if (slot < 0 || (uint32_t)slot >= c->slot_count || entry >= SMI_MAX_READERS) return SMI_ERANGE;
  int32_t bit = (int32_t)(1u << entry);
  int32_t old = __atomic_fetch_and(smi_i32(c->base, smi_state_off(c, (uint32_t)slot)), ~bit, SMI_SC);
  if (!(old & bit)) return SMI_EDOUBLE;
  __atomic_fetch_add(smi_u32(c->base, smi_entry_off(c, entry) + SMI_RD_PROGRESS), 1u, SMI_SC);
  if ((old & ~bit) == 0) smi_bump_and_wake(c->base, c->hdr + SMI_CH_RELEASE_SEQ, c->hdr + SMI_CH_RELEASE_WAITERS);
  return 0;
}

/* ---- reclaim ------------------------------------------------------------------------------ */

typedef struct smi_reclaim_counts {
  uint32_t readers, slots, writers;
} smi_reclaim_counts;

/* Frees reader entry `r` if it still belongs to `pid`: clears its bit from the commit mask and
 * from every slot, bumps its epoch so a live owner notices, then frees the entry. Returns the
 * number of slot references dropped, or -1 when someone else got there first. */
static inline int smi_free_reader_entry(const smi_channel *c, uint32_t r, uint32_t pid) {
  uint8_t *b = c->base;
  size_t e = smi_entry_off(c, r);
  uint32_t expected = pid;
  if (!__atomic_compare_exchange_n(smi_u32(b, e + SMI_RD_PID), &expected, SMI_RECLAIMING, 0, SMI_SC, SMI_SC)) return -1;
  int32_t bit = (int32_t)(1u << r);
  __atomic_fetch_and(smi_i32(b, c->hdr + SMI_CH_SEQ_READER_MASK), ~bit, SMI_SC);
  __atomic_fetch_add(smi_u32(b, e + SMI_RD_EPOCH), 1u, SMI_SC);
  int slots = 0;
  for (uint32_t s = 0; s < c->slot_count; s++) {
    int32_t old = __atomic_fetch_and(smi_i32(b, smi_state_off(c, s)), ~bit, SMI_SC);
    if (old & bit) {
      slots++;
      if ((old & ~bit) == 0) smi_bump_and_wake(b, c->hdr + SMI_CH_RELEASE_SEQ, c->hdr + SMI_CH_RELEASE_WAITERS);
    }
  }
  smi_store(b, e + SMI_RD_MODE, 0);
  smi_store(b, e + SMI_RD_BOUND, 0);
  smi_store(b, e + SMI_RD_CURSOR, 0);
  smi_store(b, e + SMI_RD_PID, 0);
  return slots;
}

/** Reclaims reader entry `r` of dead (or lease-expired) process `pid`, counted. */
static inline int smi_reclaim_reader_entry(const smi_channel *c, uint32_t r, uint32_t pid, smi_reclaim_counts *n) {
  int slots = smi_free_reader_entry(c, r, pid);
  if (slots < 0) return 0;
  smi_count(c->base, c->hdr + SMI_CH_RECLAIMED_READERS, 1);
  smi_count(c->base, c->hdr + SMI_CH_RECLAIMED_SLOTS, (uint32_t)slots);
  if (n) {
    n->readers++;
    n->slots += (uint32_t)slots;
  }
  return 1;
}

/**
 * Takes the writer role back from dead process `pid`: every slot it was writing, and a slot it
 * committed but had not yet published, returns to the free list. Nothing it wrote is ever read.
 */
static inline int smi_reclaim_writer(const smi_channel *c, uint32_t pid, smi_reclaim_counts *n) {
  uint8_t *b = c->base;
  uint32_t expected = pid;
  if (!__atomic_compare_exchange_n(smi_u32(b, c->hdr + SMI_CH_WRITER_PID), &expected, SMI_RECLAIMING, 0, SMI_SC, SMI_SC)) return 0;
  uint32_t published = smi_load(b, c->hdr + SMI_CH_COMMIT_SEQ);
  uint32_t slots = 0;
  for (uint32_t s = 0; s < c->slot_count; s++) {
    size_t m = smi_state_off(c, s);
    int32_t st = __atomic_load_n(smi_i32(b, m), SMI_SC);
    /* While the role is RECLAIMING nobody else writes: every WRITING slot is the dead writer's. */
    int unpublished = st != SMI_SLOT_FREE && st != SMI_SLOT_WRITING && smi_load(b, m + SMI_META_COMMIT_INDEX) == published &&
                      smi_load(b, m + SMI_META_OWNER_PID) == pid;
    if ((st == SMI_SLOT_WRITING || unpublished) &&
        __atomic_compare_exchange_n(smi_i32(b, m), &st, SMI_SLOT_FREE, 0, SMI_SC, SMI_SC)) {
      slots++;
      smi_bump_and_wake(b, c->hdr + SMI_CH_RELEASE_SEQ, c->hdr + SMI_CH_RELEASE_WAITERS);
    }
  }
  smi_store(b, c->hdr + SMI_CH_WRITER_PID, 0);
  smi_count(b, c->hdr + SMI_CH_DEAD_WRITERS, 1);
  smi_count(b, c->hdr + SMI_CH_RECLAIMED_SLOTS, slots);
  if (n) {
    n->writers++;
    n->slots += slots;
  }
  return 1;
}

/** Reclaims everything held by dead processes on one channel (readers and the writer). */
static inline void smi_reclaim_dead(const smi_channel *c, smi_reclaim_counts *n) {
  for (uint32_t r = 0; r < SMI_MAX_READERS; r++) {
    uint32_t pid = smi_load(c->base, smi_entry_off(c, r) + SMI_RD_PID);
    if (pid != 0 && pid != SMI_RECLAIMING && !smi_pid_alive(pid)) smi_reclaim_reader_entry(c, r, pid, n);
  }
  uint32_t w = smi_load(c->base, c->hdr + SMI_CH_WRITER_PID);
  if (w != 0 && w != SMI_RECLAIMING && !smi_pid_alive(w)) smi_reclaim_writer(c, w, n);
}

/* ---- writer ------------------------------------------------------------------------------- */

typedef struct smi_writer {
  smi_channel ch;
  uint32_t pid, producer_id, next_probe;
} smi_writer;

/**
 * Takes the channel's writer role for this process. A dead holder is reclaimed first; a live
 * holder in another process is SMI_EBUSY (one writer per channel keeps the ring single-producer).
 */
static inline int smi_writer_open(smi_writer *w, const smi_channel *c, uint32_t producer_id, char *err, size_t errlen) {
  w->ch = *c;
  w->pid = (uint32_t)getpid();
  w->producer_id = producer_id;
  w->next_probe = 0;
  uint32_t *role = smi_u32(c->base, c->hdr + SMI_CH_WRITER_PID);
  for (int tries = 0; tries < 1000; tries++) {
    uint32_t cur = __atomic_load_n(role, SMI_SC);
    if (cur == w->pid) return 0;
    if (cur == 0) {
      if (__atomic_compare_exchange_n(role, &cur, w->pid, 0, SMI_SC, SMI_SC)) {
        smi_count(c->base, c->hdr + SMI_CH_WRITER_EPOCH, 1);
        return 0;
      }
      continue;
    }
    if (cur != SMI_RECLAIMING && smi_pid_alive(cur)) {
      if (err) snprintf(err, errlen, "pool channel %u: already has a writer (pid %u)", c->index, cur);
      return SMI_EBUSY;
    }
    if (cur != SMI_RECLAIMING) smi_reclaim_writer(c, cur, NULL);
    else sched_yield();
  }
  if (err) snprintf(err, errlen, "pool channel %u: writer role stuck in reclaim", c->index);
  return SMI_EBUSY;
}

/** Gives the writer role back. */
static inline void smi_writer_close(smi_writer *w) {
  uint32_t me = w->pid;
  __atomic_compare_exchange_n(smi_u32(w->ch.base, w->ch.hdr + SMI_CH_WRITER_PID), &me, 0u, 0, SMI_SC, SMI_SC);
}

/* One pass over the slots, oldest first (round robin): the newest committed slot is tried last
 * so that a `latest` reader nearly always finds it intact. */
static inline int32_t smi_writer_try_loan(smi_writer *w) {
  const smi_channel *c = &w->ch;
  uint32_t n = c->slot_count;
  for (uint32_t i = 0; i < n; i++) {
    uint32_t s = (w->next_probe + i) % n;
    int32_t expected = SMI_SLOT_FREE;
    size_t m = smi_state_off(c, s);
    if (__atomic_compare_exchange_n(smi_i32(c->base, m), &expected, SMI_SLOT_WRITING, 0, SMI_SC, SMI_SC)) {
      smi_store(c->base, m + SMI_META_OWNER_PID, w->pid);
      w->next_probe = (s + 1) % n;
      return (int32_t)s;
    }
  }
  return SMI_ENONE;
}

/*
 * The drop-oldest step (LAYOUT.md, "Full channel"): the sequential readers furthest behind skip
 * their oldest unread commit. Each reader's cursor is moved past it with a CAS, so a reader that
 * takes the commit at the same moment keeps it (its own CAS wins); only after our CAS succeeded is
 * that reader's reference dropped. Returns 1 when a reader skipped, 0 when every reader took that
 * commit first (worth another round), -1 when nothing is unread.
 */
static inline int smi_writer_drop_oldest(smi_writer *w) {
  const smi_channel *c = &w->ch;
  uint8_t *b = c->base;
  uint32_t head = smi_load(b, c->hdr + SMI_CH_COMMIT_SEQ);
  int32_t mask = __atomic_load_n(smi_i32(b, c->hdr + SMI_CH_SEQ_READER_MASK), SMI_SC);
  uint32_t behind = 0, oldest = head;
  for (uint32_t r = 0; r < SMI_MAX_READERS; r++) {
    if (!(mask & (int32_t)(1u << r))) continue;
    uint32_t cur = smi_load(b, smi_entry_off(c, r) + SMI_RD_CURSOR);
    uint32_t d = head - cur;
    if (d > behind && d <= c->ring_size) {
      behind = d;
      oldest = cur;
    }
  }
  if (behind == 0) return -1;
  size_t e = smi_ring_off(c, oldest);
  int known = smi_load(b, e + SMI_RING_COMMIT_INDEX) == oldest;
  uint32_t slot = known ? smi_load(b, e + SMI_RING_SLOT) : UINT32_MAX;
  int skipped = 0;
  for (uint32_t r = 0; r < SMI_MAX_READERS; r++) {
    int32_t bit = (int32_t)(1u << r);
    if (!(mask & bit)) continue;
    uint32_t expect = oldest;
    if (!__atomic_compare_exchange_n(smi_u32(b, smi_entry_off(c, r) + SMI_RD_CURSOR), &expect, oldest + 1, 0, SMI_SC, SMI_SC)) continue;
    skipped++;
    if (slot >= c->slot_count) continue;
    size_t m = smi_state_off(c, slot);
    int32_t st = __atomic_load_n(smi_i32(b, m), SMI_SC);
    if (st != SMI_SLOT_WRITING && (st & bit) && smi_load(b, m + SMI_META_COMMIT_INDEX) == oldest)
      smi_release_entry(c, r, (int32_t)slot);
  }
  if (skipped) smi_count(b, c->hdr + SMI_CH_DROPPED_OLDEST, 1);
  return skipped > 0 ? 1 : 0;
}

/* A free slot, freeing one where the channel allows (dead holders, then drop-oldest); uncounted. */
static inline int32_t smi_writer_loan_freeing(smi_writer *w) {
  int32_t s = smi_writer_try_loan(w);
  if (s >= 0) return s;
  smi_reclaim_dead(&w->ch, NULL); /* a full channel may be held by a dead process */
  s = smi_writer_try_loan(w);
  if (s >= 0 || smi_load(w->ch.base, w->ch.hdr + SMI_CH_FULL_POLICY) != SMI_FULL_DROP_OLDEST) return s;
  /* Each round frees at most one unread commit (a reader consuming meanwhile may take it first:
   * another round); a slot a reader has taken stays held. When nothing is left to drop, readers
   * may still have released meanwhile: one last try. */
  for (uint32_t round = 0; round < 4 * w->ch.slot_count + 4 && s < 0; round++) {
    int dropped = smi_writer_drop_oldest(w);
    s = smi_writer_try_loan(w);
    if (dropped < 0) break;
  }
  return s;
}

/**
 * Takes a free slot for writing. On a full channel, a drop-oldest channel frees its oldest unread
 * commit; otherwise (or when nothing can be freed) SMI_ENONE, counted in droppedFull.
 */
static inline int32_t smi_writer_loan(smi_writer *w) {
  int32_t s = smi_writer_loan_freeing(w);
  if (s < 0) smi_count(w->ch.base, w->ch.hdr + SMI_CH_DROPPED_FULL, 1);
  return s;
}

/** Like smi_writer_loan, but sleeps (futex) up to `timeout_ms` for a reader to release a slot. */
static inline int32_t smi_writer_loan_wait(smi_writer *w, int timeout_ms) {
  const smi_channel *c = &w->ch;
  uint64_t deadline = smi_monotonic_ns() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms) * 1000000ull;
  int waited = 0;
  for (;;) {
    uint32_t seen = smi_load(c->base, c->hdr + SMI_CH_RELEASE_SEQ);
    int32_t s = waited ? smi_writer_try_loan(w) : smi_writer_loan_freeing(w);
    if (s >= 0) return s;
    if (!waited) {
      waited = 1;
      smi_count(c->base, c->hdr + SMI_CH_BACKPRESSURE, 1);
      continue;
    }
    uint64_t now = smi_monotonic_ns();
    if (now >= deadline) break;
    smi_wait_word(c->base, c->hdr + SMI_CH_RELEASE_SEQ, c->hdr + SMI_CH_RELEASE_WAITERS, seen, (int)((deadline - now) / 1000000ull) + 1);
  }
  smi_count(c->base, c->hdr + SMI_CH_DROPPED_FULL, 1);
  return SMI_ENONE;
}

/** Returns a loaned slot without publishing it. */
static inline void smi_writer_abandon(smi_writer *w, int32_t slot) {
  const smi_channel *c = &w->ch;
  __atomic_store_n(smi_i32(c->base, smi_state_off(c, (uint32_t)slot)), SMI_SLOT_FREE, SMI_SC);
  smi_bump_and_wake(c->base, c->hdr + SMI_CH_RELEASE_SEQ, c->hdr + SMI_CH_RELEASE_WAITERS);
}

/**
 * Publishes a written slot: meta and ring entry first, then the slot's state (one reference per
 * sequential reader), then the commit counter readers sleep on. A length beyond the slot is
 * refused, counted and the slot abandoned: a payload is never truncated.
 */
static inline int smi_writer_commit(smi_writer *w, int32_t slot, uint32_t length, uint32_t seq, uint64_t stamp_ns, uint64_t commit_ns) {
  const smi_channel *c = &w->ch;
  uint8_t *b = c->base;
  if (slot < 0 || (uint32_t)slot >= c->slot_count) return SMI_ERANGE;
  if (length > c->slot_bytes) {
    smi_count(b, c->hdr + SMI_CH_TOO_LARGE, 1);
    smi_writer_abandon(w, slot);
    return SMI_ETOOLARGE;
  }
  size_t m = smi_state_off(c, (uint32_t)slot);
  uint32_t commit = smi_load(b, c->hdr + SMI_CH_COMMIT_SEQ);
  smi_store(b, m + SMI_META_LENGTH, length);
  smi_store(b, m + SMI_META_SEQ, seq);
  smi_store(b, m + SMI_META_PRODUCER_ID, w->producer_id);
  smi_store(b, m + SMI_META_STAMP_LO, (uint32_t)stamp_ns);
  smi_store(b, m + SMI_META_STAMP_HI, (uint32_t)(stamp_ns >> 32));
  smi_store(b, m + SMI_META_COMMIT_LO, (uint32_t)commit_ns);
  smi_store(b, m + SMI_META_COMMIT_HI, (uint32_t)(commit_ns >> 32));
  smi_store(b, m + SMI_META_COMMIT_INDEX, commit);
  size_t e = smi_ring_off(c, commit);
  smi_store(b, e + SMI_RING_SLOT, (uint32_t)slot);
  smi_store(b, e + SMI_RING_COMMIT_INDEX, commit);
  int32_t mask = __atomic_load_n(smi_i32(b, c->hdr + SMI_CH_SEQ_READER_MASK), SMI_SC);
  __atomic_store_n(smi_i32(b, m), mask, SMI_SC);
  /* A reader reclaimed while we stored may have lost its bit from the mask after our load:
   * drop what is no longer in the mask (the reclaimer's slot sweep may have run before). */
  int32_t stale = mask & ~__atomic_load_n(smi_i32(b, c->hdr + SMI_CH_SEQ_READER_MASK), SMI_SC);
  if (stale) __atomic_fetch_and(smi_i32(b, m), ~stale, SMI_SC);
  smi_bump_and_wake(b, c->hdr + SMI_CH_COMMIT_SEQ, c->hdr + SMI_CH_COMMIT_WAITERS);
  return 0;
}

/* ---- reader ------------------------------------------------------------------------------- */

typedef struct smi_reader {
  smi_channel ch;
  uint32_t entry, bit, epoch, cursor, mode, pid;
  uint64_t skipped, torn;
} smi_reader;

/**
 * Opens a reader on a channel. `mode` 0 binds a reader entry reserved at creation (of either
 * access pattern) if one is unbound, else claims a free entry as sequential; SMI_ACCESS_* binds
 * or claims one of that pattern. A sequential reader starts at the next commit, a bound reserved
 * one at the first commit the pool ever made (every slot since was held for it).
 */
static inline int smi_reader_open_entry(smi_reader *r, const smi_channel *c, uint32_t mode, int32_t only);

static inline int smi_reader_open(smi_reader *r, const smi_channel *c, uint32_t mode) {
  return smi_reader_open_entry(r, c, mode, -1);
}

/**
 * smi_reader_open, binding only reserved entry `only` when it is >= 0 (SMI_EBUSY if that entry is
 * not reserved and unbound): a replacement thread takes over the entry its dead predecessor held,
 * with its cursor, after the supervisor handed it over (smi-fusion's StageSupervisor).
 */
static inline int smi_reader_open_entry(smi_reader *r, const smi_channel *c, uint32_t mode, int32_t only) {
  uint8_t *b = c->base;
  r->ch = *c;
  r->pid = (uint32_t)getpid();
  r->skipped = r->torn = 0;
  for (uint32_t i = 0; i < SMI_MAX_READERS; i++) {
    if (only >= 0 && i != (uint32_t)only) continue;
    size_t e = smi_entry_off(c, i);
    uint32_t pid = smi_load(b, e + SMI_RD_PID);
    uint32_t m = smi_load(b, e + SMI_RD_MODE);
    if (pid == 0 || pid == SMI_RECLAIMING || (mode != 0 && m != mode)) continue;
    uint32_t unbound = 0;
    if (!__atomic_compare_exchange_n(smi_u32(b, e + SMI_RD_BOUND), &unbound, 1u, 0, SMI_SC, SMI_SC)) continue;
    smi_store(b, e + SMI_RD_PID, r->pid); /* its death now means this process's death */
    r->entry = i;
    r->bit = 1u << i;
    r->mode = m;
    r->epoch = smi_load(b, e + SMI_RD_EPOCH);
    r->cursor = smi_load(b, e + SMI_RD_CURSOR);
    return 0;
  }
  if (only >= 0) return SMI_EBUSY;
  if (mode == 0) mode = SMI_ACCESS_SEQUENTIAL;
  for (uint32_t i = 0; i < SMI_MAX_READERS; i++) {
    size_t e = smi_entry_off(c, i);
    uint32_t free_pid = 0;
    if (!__atomic_compare_exchange_n(smi_u32(b, e + SMI_RD_PID), &free_pid, r->pid, 0, SMI_SC, SMI_SC)) continue;
    int32_t bit = (int32_t)(1u << i);
    smi_store(b, e + SMI_RD_MODE, mode);
    smi_store(b, e + SMI_RD_BOUND, 1);
    r->epoch = __atomic_add_fetch(smi_u32(b, e + SMI_RD_EPOCH), 1u, SMI_SC);
    if (mode == SMI_ACCESS_SEQUENTIAL) __atomic_fetch_or(smi_i32(b, c->hdr + SMI_CH_SEQ_READER_MASK), bit, SMI_SC);
    uint32_t cursor = smi_load(b, c->hdr + SMI_CH_COMMIT_SEQ);
    smi_store(b, e + SMI_RD_CURSOR, cursor);
    /* A commit before `cursor` can still carry this bit from a reclaimed predecessor: drop it. */
    for (uint32_t s = 0; s < c->slot_count; s++) {
      size_t m = smi_state_off(c, s);
      int32_t st = __atomic_load_n(smi_i32(b, m), SMI_SC);
      if (st != SMI_SLOT_WRITING && (st & bit) && (int32_t)(cursor - smi_load(b, m + SMI_META_COMMIT_INDEX)) > 0)
        smi_release_entry(c, i, (int32_t)s);
    }
    r->entry = i;
    r->bit = (uint32_t)bit;
    r->mode = mode;
    r->cursor = cursor;
    return 0;
  }
  return SMI_EBUSY;
}

static inline int smi_reader_evicted(const smi_reader *r) {
  return smi_load(r->ch.base, smi_entry_off(&r->ch, r->entry) + SMI_RD_EPOCH) != r->epoch;
}

/** Frees the reader's entry; slots it still holds are released. */
static inline void smi_reader_close(smi_reader *r) {
  if (!smi_reader_evicted(r)) smi_free_reader_entry(&r->ch, r->entry, r->pid);
}

/* The cursor lives in the reader entry, not here: a drop-oldest writer may move it. */
static inline uint32_t smi_reader_cursor(const smi_reader *r) {
  return smi_load(r->ch.base, smi_entry_off(&r->ch, r->entry) + SMI_RD_CURSOR);
}

static inline uint32_t smi_reader_backlog(const smi_reader *r) {
  return smi_load(r->ch.base, r->ch.hdr + SMI_CH_COMMIT_SEQ) - smi_reader_cursor(r);
}

/* Moves the cursor from `from` to `to` with a CAS; 0 when a drop-oldest writer moved it first. */
static inline int smi_reader_advance(smi_reader *r, uint32_t from, uint32_t to) {
  size_t e = smi_entry_off(&r->ch, r->entry);
  uint32_t expect = from;
  if (!__atomic_compare_exchange_n(smi_u32(r->ch.base, e + SMI_RD_CURSOR), &expect, to, 0, SMI_SC, SMI_SC)) return 0;
  r->cursor = to;
  __atomic_fetch_add(smi_u32(r->ch.base, e + SMI_RD_PROGRESS), 1u, SMI_SC);
  return 1;
}

/*
 * Tries to hold commit `commit` for this reader: returns its slot, or SMI_ENONE when that commit
 * is gone (overwritten, or not referenced for this reader). For a latest-mode reader the slot is acquired by setting our bit with a
 * CAS (never over a WRITING slot), then the slot's commit index is checked: if the writer reused
 * the slot in between, the reference is dropped and the read counted as torn.
 */
static inline int32_t smi_reader_take(smi_reader *r, uint32_t commit, int *torn) {
  const smi_channel *c = &r->ch;
  uint8_t *b = c->base;
  size_t e = smi_ring_off(c, commit);
  if (smi_load(b, e + SMI_RING_COMMIT_INDEX) != commit) return SMI_ENONE;
  uint32_t slot = smi_load(b, e + SMI_RING_SLOT);
  if (slot >= c->slot_count) return SMI_ENONE;
  size_t m = smi_state_off(c, slot);
  int32_t *state = smi_i32(b, m);
  int32_t bit = (int32_t)r->bit;
  int32_t st = __atomic_load_n(state, SMI_SC);
  if (st != SMI_SLOT_WRITING && (st & bit)) {
    /* Already referenced for us (sequential): ours if it still holds this commit. */
    return smi_load(b, m + SMI_META_COMMIT_INDEX) == commit ? (int32_t)slot : SMI_ENONE;
  }
  if (r->mode != SMI_ACCESS_LATEST) return SMI_ENONE;
  for (;;) {
    if (st == SMI_SLOT_WRITING) {
      *torn = 1;
      return SMI_ENONE;
    }
    if (__atomic_compare_exchange_n(state, &st, st | bit, 0, SMI_SC, SMI_SC)) break;
  }
  if (smi_load(b, m + SMI_META_COMMIT_INDEX) == commit) return (int32_t)slot;
  smi_release_entry(c, r->entry, (int32_t)slot);
  *torn = 1;
  return SMI_ENONE;
}

/**
 * Sequential access: the next commit in order, as a held slot; SMI_ENONE when none is pending,
 * SMI_EEVICTED when this reader was reclaimed. Commits that are gone are skipped and counted.
 */
static inline int32_t smi_reader_next(smi_reader *r) {
  if (smi_reader_evicted(r)) return SMI_EEVICTED;
  for (;;) {
    uint32_t c = smi_reader_cursor(r);
    if (smi_load(r->ch.base, r->ch.hdr + SMI_CH_COMMIT_SEQ) == c) return SMI_ENONE;
    int torn = 0;
    int32_t s = smi_reader_take(r, c, &torn);
    /* Lost the race to a drop-oldest writer: commit c (and our reference to it) is gone. */
    if (!smi_reader_advance(r, c, c + 1)) continue;
    if (s >= 0) return s;
    r->skipped++;
    smi_count(r->ch.base, r->ch.hdr + SMI_CH_OVERWRITTEN, 1);
    if (torn) {
      r->torn++;
      smi_count(r->ch.base, r->ch.hdr + SMI_CH_TORN_RETRIES, 1);
    }
  }
}

/**
 * Latest access: the newest commit, as a held slot; older pending ones are skipped (released, for
 * a sequential reader) and counted. A slot being rewritten is never returned: the read is retried
 * on the newer commit.
 */
static inline int32_t smi_reader_latest(smi_reader *r) {
  if (smi_reader_evicted(r)) return SMI_EEVICTED;
  const smi_channel *c = &r->ch;
  uint8_t *b = c->base;
  if (r->mode != SMI_ACCESS_LATEST) {
    while (smi_reader_backlog(r) > 1) {
      int32_t s = smi_reader_next(r);
      if (s < 0) return s;
      smi_release_entry(c, r->entry, s);
      r->skipped++;
      smi_count(b, c->hdr + SMI_CH_OVERWRITTEN, 1);
    }
    return smi_reader_next(r);
  }
  for (int tries = 0; tries < 64; tries++) {
    uint32_t head = smi_load(b, c->hdr + SMI_CH_COMMIT_SEQ);
    uint32_t cursor = smi_reader_cursor(r);
    if (head == cursor) return SMI_ENONE;
    uint32_t newest = head - 1;
    int torn = 0;
    int32_t s = smi_reader_take(r, newest, &torn);
    if (s >= 0) {
      uint32_t skipped = newest - cursor;
      if (skipped) {
        r->skipped += skipped;
        smi_count(b, c->hdr + SMI_CH_OVERWRITTEN, skipped);
      }
      /* Only this reader moves a latest reader's cursor (writers skip for sequential ones). */
      smi_reader_advance(r, cursor, newest + 1);
      return s;
    }
    r->torn++;
    smi_count(b, c->hdr + SMI_CH_TORN_RETRIES, 1);
    if (!torn && smi_load(b, c->hdr + SMI_CH_COMMIT_SEQ) == head) {
      /* the newest is gone and nothing newer is published yet */
      return SMI_ENONE;
    }
  }
  return SMI_ENONE;
}

/** Releases a slot this reader holds. */
static inline int smi_reader_release(smi_reader *r, int32_t slot) { return smi_release_entry(&r->ch, r->entry, slot); }

/** Sleeps until a commit is pending for this reader or `timeout_ms` passes; 1 when one is. */
static inline int smi_reader_wait(smi_reader *r, int timeout_ms) {
  if (smi_reader_backlog(r) > 0) return 1;
  smi_wait_word(r->ch.base, r->ch.hdr + SMI_CH_COMMIT_SEQ, r->ch.hdr + SMI_CH_COMMIT_WAITERS, smi_reader_cursor(r), timeout_ms);
  return smi_reader_backlog(r) > 0;
}

#ifdef __cplusplus
}
#endif
#endif /* SMI_POOL_H */
