#!/bin/sh
# Generates the hostile corpus of test_media into $1 (RELIABILITY C18/C20): bombs, formats
# renamed, broken files and containers that reference other files. Each must fail cleanly.
set -eu
d=$1
[ -f "$d/.done" ] && exit 0
mkdir -p "$d"
cd "$d"
python3 - <<'PY'
import struct, zlib
def chunk(t, b):
    return struct.pack('>I', len(b)) + t + b + struct.pack('>I', zlib.crc32(t + b))
png = b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', 50000, 50000, 8, 2, 0, 0, 0))
png += chunk(b'IDAT', zlib.compress(b'\0' * 4096)) + chunk(b'IEND', b'')
open('png_50000x50000.png', 'wb').write(png)
# JPEG: SOI, DQT, SOF0 claiming 65500x65500, DHT, SOS, a little data, EOI.
sof = b'\xff\xc0' + struct.pack('>HBHHB', 17, 8, 65500, 65500, 3) + b'\x01\x11\x00\x02\x11\x00\x03\x11\x00'
dqt = b'\xff\xdb' + struct.pack('>H', 67) + b'\x00' + bytes([1] * 64)
dht = b'\xff\xc4' + struct.pack('>H', 31) + b'\x00' + bytes([0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]) + bytes(range(12))
sos = b'\xff\xda' + struct.pack('>HB', 12, 3) + b'\x01\x00\x02\x00\x03\x00' + b'\x00\x3f\x00'
open('jpeg_65500.jpg', 'wb').write(b'\xff\xd8' + dqt + sof + dht + sos + b'\x00' * 64 + b'\xff\xd9')
# GIF with 10,000 1x1 frames.
g = b'GIF89a' + struct.pack('<HHBBB', 1, 1, 0x80, 0, 0) + b'\x00\x00\x00\xff\xff\xff'
frame = b'\x21\xf9\x04\x00\x01\x00\x00\x00' + b'\x2c' + struct.pack('<HHHHB', 0, 0, 1, 1, 0) + b'\x02\x02\x44\x01\x00'
open('gif_10000_frames.gif', 'wb').write(g + frame * 10000 + b'\x3b')
open('svg.jpg', 'w').write('<?xml version="1.0"?><!DOCTYPE s [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><svg xmlns="http://www.w3.org/2000/svg" width="100000" height="100000"><text>&c;</text></svg>')
open('pdf.jpg', 'w').write('%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n')
open('ps.jpg', 'w').write('%!PS-Adobe-3.0\n/Courier findfont 12 scalefont setfont 72 72 moveto (x) show showpage\n')
open('mvg.jpg', 'w').write('push graphic-context\nviewbox 0 0 640 480\nimage over 0,0 0,0 "/etc/passwd"\npop graphic-context\n')
open('ppm.jpg', 'wb').write(b'P6\n60000 60000\n255\n' + b'\0' * 100)
open('text.jpg', 'w').write('hello, this is not an image\n')
open('zero.jpg', 'wb').close()
open('hls.mp4', 'w').write('#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:10.0,\nfile:///etc/passwd\n#EXTINF:10.0,\nhttp://127.0.0.1:9/canary.ts\n#EXT-X-ENDLIST\n')
open('hls.m3u8', 'w').write('#EXTM3U\n#EXTINF:1,\nconcat:/etc/passwd|/etc/hostname\n#EXT-X-ENDLIST\n')
open('concat.mp3', 'w').write('ffconcat version 1.0\nfile /etc/passwd\nfile concat:/etc/passwd\n')
# PDFs for our own reader: nesting 200,000 deep, an object stream inflating to 200 MB, a
# startxref into nowhere, a page tree that points at itself.
open('pdf_deep.pdf', 'wb').write(b'%PDF-1.4\n1 0 obj\n' + b'[' * 200000 + b'\nendobj\ntrailer\n<< /Root 1 0 R /Info ' + b'<<' * 100000 + b'\n')
z = zlib.compressobj(9)
bomb = b''.join(z.compress(b'\0' * (1 << 20)) for _ in range(200)) + z.flush()
open('pdf_bomb.pdf', 'wb').write(b'%%PDF-1.5\n5 0 obj\n<< /Type /ObjStm /N 1000000 /First 0 /Filter /FlateDecode /Length %d >>\nstream\n' % len(bomb) + bomb + b'\nendstream\nendobj\ntrailer\n<< /Root 9 0 R /Info 8 0 R >>\n')
open('pdf_badxref.pdf', 'wb').write(b'%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\nstartxref\n99999999999\n%%EOF\n')
open('pdf_loop.pdf', 'wb').write(b'%PDF-1.4\n1 0 obj << /Pages 1 0 R >> endobj\ntrailer << /Root 1 0 R /Info 1 0 R >>\n')
# BMPs for our own decoder: 60,000 x 60,000 declared, and pixels cut short.
hdr = lambda w, h, bpp: struct.pack('<IiiHHIIiiII', 40, w, h, 1, bpp, 0, 0, 0, 0, 0, 0)
open('bmp_huge.bmp', 'wb').write(b'BM' + struct.pack('<IHHI', 0, 0, 0, 54) + hdr(60000, 60000, 24) + b'\0' * 64)
open('bmp_truncated.bmp', 'wb').write(b'BM' + struct.pack('<IHHI', 0, 0, 0, 54) + hdr(1000, 1000, 24) + b'\0' * 100)
open('bmp_palette.bmp', 'wb').write(b'BM' + struct.pack('<IHHI', 0, 0, 0, 54) + hdr(16, 16, 8))
open('subfile.avi', 'w').write('subfile,,start,0,end,100,,:/etc/passwd\n')
PY
# Truncated versions of real files.
convert -size 2000x1500 plasma:fractal full.jpg
head -c 20000 full.jpg > truncated.jpg
convert -size 800x600 gradient:red-blue full.png
head -c 3000 full.png > truncated.png
rm -f full.jpg full.png
ffmpeg -v error -y -f lavfi -i testsrc=size=320x240:rate=25 -t 2 -c:v libx264 -pix_fmt yuv420p full.mp4
head -c 4000 full.mp4 > truncated.mp4
rm -f full.mp4
# 40 audio streams (limit 16).
ffmpeg -v error -y -f lavfi -i sine=duration=1 $(for i in $(seq 40); do printf -- '-map 0:a '; done) \
  -c:a flac streams40.mkv
touch .done
