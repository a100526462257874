/* kds_wire.h: the kd stream's byte layout (STREAM-FORMAT.md), shared by
 * its reader (kds.c) and its writer (kds_write.c); not for other modules. */
#ifndef KD_KDS_WIRE_H
#define KD_KDS_WIRE_H

#define KDS_MAGIC "KDS\x1a" /* the first 4 bytes of every segment */
#define KDS_TAG_RECORD   0x52 /* 'R' */
#define KDS_TAG_TRAILER 0x45 /* 'E' */
#define KDS_HEADER_V1 40 /* bytes of the fixed header, version 1 */
#define KDS_HEADER_V2 48 /* version 2: the row count at 40 */
#define KDS_HEADER_FIXED 64 /* version 3: and the fingerprints at 48 and 56 */
#define KDS_TRAILER_SIZE 9

#endif
