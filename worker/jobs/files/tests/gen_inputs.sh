#!/bin/sh
# Generates the correctness inputs of test_media into $1 with vips, convert, exiftool and ffmpeg
# (nothing binary is committed). Idempotent: skips when $1/.done exists.
set -eu
d=$1
[ -f "$d/.done" ] && exit 0
mkdir -p "$d"
cd "$d"
# JPEG 1200x800, EXIF orientation 6 (display 800x1200), GPS and camera fields.
convert -size 1200x800 gradient:red-blue jpeg_exif.jpg
exiftool -q -overwrite_original -Orientation#=6 -GPSLatitude=48.8584 -GPSLatitudeRef=N \
  -GPSLongitude=2.2945 -GPSLongitudeRef=W -GPSAltitude=35 -Make=TestCam -Model="X100 Pro" \
  -LensModel="TestLens 35mm" -ISO=200 -ExposureTime=0.004 -FNumber=2.8 -FocalLength=35 \
  -DateTimeOriginal="2023:05:01 12:00:00" jpeg_exif.jpg
# PNG with alpha, 640x480.
convert -size 640x480 xc:none -fill 'rgba(255,0,0,0.5)' -draw 'circle 320,240 320,10' png_alpha.png
# GIF animation, 3 frames 200x100.
convert -size 200x100 xc:red xc:green xc:blue -set delay 10 gif_anim.gif
vips black webp.webp 1000 500 --bands 3
vips black tiff.tif 300 900 --bands 3
convert -size 500x250 xc:yellow bmp.bmp
# BMP variants for our own decoder: 1-bit palette, 32-bit with alpha (V5 bit fields), OS/2
# core header, RLE8 (refused), and a top-down 24-bit one written by hand.
convert -size 400x200 xc:yellow -type palette BMP3:bmp_1bit.bmp
convert -size 640x480 xc:none -fill 'rgba(255,0,0,0.5)' -draw 'rectangle 0,0 639,239' BMP:bmp_alpha32.bmp
convert -size 300x150 xc:blue BMP2:bmp_os2.bmp
convert -size 40x20 gradient:red-blue -colors 16 -compress RLE BMP3:bmp_rle8.bmp
# HEIF and AVIF through libvips' heifload (only where Debian's libvips has it).
if vips -l 2>/dev/null | grep -q heifsave; then
  vips black heif_src.v 1000 750 --bands 3
  vips linear heif_src.v heif_grey.v 1 128
  vips cast heif_grey.v heif_grey8.v uchar
  vips copy heif_grey8.v heic.heic
  vips copy heif_grey8.v 'avif.avif[compression=av1]'
  rm -f heif_src.v heif_grey.v heif_grey8.v
fi
# Grey 16-bit PNG (colour-space conversion to sRGB 8-bit).
convert -size 700x700 gradient:black-white -depth 16 -colorspace Gray png_grey16.png
ffmpeg -v error -y -f lavfi -i testsrc=size=640x360:rate=25 -f lavfi \
  -i sine=frequency=440:sample_rate=44100 -t 4 -c:v libx264 -pix_fmt yuv420p -c:a aac \
  -ac 2 -shortest video.mp4
ffmpeg -v error -y -f lavfi -i testsrc=size=320x240:rate=30 -t 2 -c:v libvpx -b:v 200k video.webm
ffmpeg -v error -y -f lavfi -i sine=frequency=440:sample_rate=44100 -t 3 -metadata title=Tone \
  -metadata artist="Test Artist" -metadata album=Album -metadata track=7 -metadata date=2021 \
  -c:a libmp3lame -b:a 128k audio.mp3
ffmpeg -v error -y -f lavfi -i sine=frequency=220:sample_rate=48000 -t 2 -ac 2 audio.flac
python3 - <<'PY'
import struct, zlib
# Top-down (negative height) 24-bit BMP, 90x30: left half red, right half green.
w, h = 90, 30
stride = (w * 3 + 3) & ~3
rows = b''.join(b''.join(b'\x00\x00\xff' if x < 45 else b'\x00\xff\x00' for x in range(w)).ljust(stride, b'\0') for _ in range(h))
hdr = struct.pack('<IiiHHIIiiII', 40, w, -h, 1, 24, 0, len(rows), 2835, 2835, 0, 0)
open('bmp_topdown.bmp', 'wb').write(b'BM' + struct.pack('<IHHI', 14 + 40 + len(rows), 0, 0, 54) + hdr + rows)

def pdf_classic(path):
    objs = [b'<< /Type /Catalog /Pages 2 0 R >>',
            b'<< /Type /Pages /Kids [3 0 R 4 0 R 5 0 R] /Count 3 >>'] + \
           [b'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>'] * 3 + \
           [b'<< /Title <FEFF' + 'Test Déjà vu'.encode('utf-16-be').hex().upper().encode() +
            b'> /Author (Jane \\(J.\\) Doe) /Producer 7 0 R /Keywords (alpha, beta)'
            b" /CreationDate (D:20230501120000+02'00') >>", b'(gen_inputs \\101)']
    out, offs = b'%PDF-1.4\n%\xe2\xe3\xcf\xd3\n', []
    for i, o in enumerate(objs):
        offs.append(len(out))
        out += b'%d 0 obj\n' % (i + 1) + o + b'\nendobj\n'
    x = len(out)
    out += b'xref\n0 %d\n0000000000 65535 f \n' % (len(objs) + 1)
    out += b''.join(b'%010d 00000 n \n' % o for o in offs)
    out += b'trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R >>\nstartxref\n%d\n%%%%EOF\n' % (len(objs) + 1, x)
    open(path, 'wb').write(out)

def pdf_objstm(path):
    # PDF 1.5: catalog, page tree and info inside a Flate object stream; xref stream.
    inner = {1: b'<< /Type /Catalog /Pages 2 0 R >>',
             2: b'<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >>',
             5: b"<< /Title (Packed) /Author (Obj Stream) /ModDate (D:20240102030405Z) >>"}
    head, body = b'', b''
    for n, o in inner.items():
        head += b'%d %d ' % (n, len(body))
        body += o + b'\n'
    data = zlib.compress(head + body)
    out, offs = b'%PDF-1.5\n', {}
    for n in (3, 4):
        offs[n] = len(out)
        out += b'%d 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 100 100] >>\nendobj\n' % n
    offs[6] = len(out)
    out += b'6 0 obj\n<< /Type /ObjStm /N 3 /First %d /Filter /FlateDecode /Length %d >>\nstream\n' % (len(head), len(data)) + data + b'\nendstream\nendobj\n'
    offs[7] = len(out)
    idx = {1: 0, 2: 1, 5: 2}
    rows = b''
    for n in range(8):
        if n == 0:
            rows += struct.pack('>BIH', 0, 0, 65535)
        elif n in idx:
            rows += struct.pack('>BIH', 2, 6, idx[n])
        else:
            rows += struct.pack('>BIH', 1, offs[n], 0)
    xs = zlib.compress(rows)
    out += b'7 0 obj\n<< /Type /XRef /Size 8 /W [1 4 2] /Root 1 0 R /Info 5 0 R /Filter /FlateDecode /Length %d >>\nstream\n' % len(xs) + xs + b'\nendstream\nendobj\n'
    out += b'startxref\n%d\n%%%%EOF\n' % offs[7]
    open(path, 'wb').write(out)

pdf_classic('pdf_classic.pdf')
pdf_objstm('pdf_objstm.pdf')
PY
touch .done
