#!/bin/sh
# Generates the correctness inputs of test_media into $1 with vips, convert, exiftool and ffmpeg
# (nothing binary is committed). Idempotent: skips when $1/.done exists.
set -eu
d=$1
[ -f "$d/.done4" ] && exit 0
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
# JPEG and PNG variants for fm_header_image, each compared with libvips field by field: grey,
# CMYK (Adobe APP14), progressive, ICC profiles in APP2 before SOF (120 KB, and 300 KB: past the
# 256 KiB the metadata job reads first), EXIF with GPS; PNG of every colour type and depth, tRNS,
# interlaced, eXIf written by libvips and by exiftool.
convert -size 300x200 gradient:black-white -depth 8 -colorspace Gray jpeg_grey.jpg
convert -size 320x240 gradient:cyan-yellow -depth 8 -colorspace CMYK jpeg_cmyk.jpg
convert -size 640x480 plasma:fractal -depth 8 -interlace Plane jpeg_progressive.jpg
convert -size 120x80 gradient:red-blue -depth 8 -sampling-factor 2x2 jpeg_420.jpg
vips copy jpeg_exif.jpg png_exif_vips.png
python3 - <<'PY'
import struct, zlib
def chunk(t, b):
    return struct.pack('>I', len(b)) + t + b + struct.pack('>I', zlib.crc32(t + b))
def png(path, w, h, depth, ctype, trns=None, plte=None, interlace=0, pre=b'', extra=b''):
    bpp = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[ctype] * depth
    if interlace:
        raw = b''
        for xs, ys, dx, dy in ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)):
            pw, ph = (w - xs + dx - 1) // dx, (h - ys + dy - 1) // dy
            if pw and ph:
                raw += (b'\0' + bytes((pw * bpp + 7) // 8)) * ph
    else:
        row = (w * bpp + 7) // 8
        raw = b''.join(b'\0' + bytes(((x * 37 + y * 11) & 0xff) if ctype != 3 else 0 for x in range(row)) for y in range(h))
    out = b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, depth, ctype, 0, 0, interlace)) + pre
    if plte is not None:
        out += chunk(b'PLTE', plte)
    if trns is not None:
        out += chunk(b'tRNS', trns)
    out += extra + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b'')
    open(path, 'wb').write(out)
pal = bytes(range(48))
png('png_grey1.png', 33, 7, 1, 0)
png('png_grey4_trns.png', 30, 20, 4, 0, trns=b'\0\x03')
png('png_grey8.png', 64, 32, 8, 0)
png('png_grey8_trns.png', 64, 32, 8, 0, trns=b'\0\x10')
png('png_grey16_trns.png', 64, 32, 16, 0, trns=b'\x12\x34')
png('png_grey_alpha8.png', 40, 30, 8, 4)
png('png_grey_alpha16.png', 40, 30, 16, 4)
png('png_rgb8.png', 50, 40, 8, 2, extra=chunk(b'tEXt', b'Comment\0hello') + chunk(b'gAMA', struct.pack('>I', 45455)))
png('png_rgb8_trns.png', 50, 40, 8, 2, trns=b'\0\1\0\2\0\3')
png('png_rgb16.png', 50, 40, 16, 2)
png('png_rgb16_trns.png', 50, 40, 16, 2, trns=b'\1\1\2\2\3\3')
png('png_rgba8.png', 70, 10, 8, 6)
png('png_rgba16.png', 70, 10, 16, 6)
png('png_palette2.png', 31, 9, 2, 3, plte=pal[:12])
png('png_palette8.png', 31, 9, 8, 3, plte=pal)
png('png_palette8_trns.png', 31, 9, 8, 3, plte=pal, trns=b'\0\x80\xff')
png('png_interlaced_rgb8.png', 37, 23, 8, 2, interlace=1)
png('png_interlaced_rgba16.png', 37, 23, 16, 6, interlace=1)
png('png_rgb8_plte.png', 20, 20, 8, 2, plte=pal)
png('png_exif_et.png', 50, 40, 8, 2)
# JPEG with its ICC profile split over APP2 segments before SOF (the bytes are not a real
# profile: the header read only attaches them).
def icc_jpeg(src, dst, parts):
    j = open(src, 'rb').read()
    segs = b''
    for k in range(parts):
        body = b'ICC_PROFILE\0' + bytes([k + 1, parts]) + bytes((k * 7 + i) & 0xff for i in range(60000))
        segs += b'\xff\xe2' + struct.pack('>H', len(body) + 2) + body
    open(dst, 'wb').write(j[:2] + segs + j[2:])
icc_jpeg('jpeg_grey.jpg', 'jpeg_icc_120k.jpg', 2)
icc_jpeg('jpeg_grey.jpg', 'jpeg_icc_300k.jpg', 5)

# Crafted headers in hdr_edge/: compared with libvips when fm_header_image answers, free to
# leave them to libvips (0) otherwise.
import os
os.makedirs('hdr_edge', exist_ok=True)
e = lambda n: os.path.join('hdr_edge', n)
png(e('trns_before_plte.png'), 8, 8, 8, 3, pre=chunk(b'tRNS', b'\0\0'), plte=pal)
png(e('rgb_trns_then_plte.png'), 8, 8, 8, 2, pre=chunk(b'tRNS', b'\0\1\0\2\0\3'), plte=pal)
png(e('grey_trns_bad_len.png'), 8, 8, 8, 0, trns=b'\0\1\2')
png(e('grey_trns_twice.png'), 8, 8, 8, 0, trns=b'\0\1\2', extra=chunk(b'tRNS', b'\0\7'))
png(e('rgba_trns.png'), 8, 8, 8, 6, trns=b'\0\1\0\2\0\3')
png(e('palette_trns_long.png'), 8, 8, 8, 3, plte=pal[:6], trns=b'\0\0\0')
png(e('grey_plte.png'), 8, 8, 8, 0, plte=pal)
png(e('rgb_plte_empty.png'), 8, 8, 8, 2, plte=b'')
png(e('rgb_plte_odd.png'), 8, 8, 8, 2, plte=b'\1\2\3\4')
png(e('grey_plte_twice.png'), 8, 8, 8, 0, plte=pal, extra=chunk(b'PLTE', pal))
ex = b'MM\0*\0\0\0\x08\0\0\0\0\0\0'
png(e('exif_bad_order_then_good.png'), 8, 8, 8, 0, pre=chunk(b'eXIf', b'MI\0*') + chunk(b'eXIf', ex))
png(e('exif_twice.png'), 8, 8, 8, 0, pre=chunk(b'eXIf', ex) + chunk(b'eXIf', b'II*\0' + ex[4:]))
png(e('exif_short.png'), 8, 8, 8, 0, pre=chunk(b'eXIf', b'M'))
bad = chunk(b'tEXt', b'a\0b')
png(e('bad_crc_text.png'), 8, 8, 8, 0, pre=bad[:-1] + bytes([bad[-1] ^ 1]))
bad = chunk(b'tRNS', b'\0\1')
png(e('bad_crc_trns.png'), 8, 8, 8, 0, pre=bad[:-1] + bytes([bad[-1] ^ 1]))
png(e('unknown_critical.png'), 8, 8, 8, 0, pre=chunk(b'ABCD', b'x'))
png(e('unknown_ancillary.png'), 8, 8, 8, 0, pre=chunk(b'abCD', b'x'))
png(e('iend_before_idat.png'), 8, 8, 8, 0, pre=chunk(b'IEND', b''))
png(e('bad_chunk_name.png'), 8, 8, 8, 0, pre=chunk(b'ab1d', b''))
png(e('palette_no_plte.png'), 8, 8, 8, 3)
png(e('width_16385.png'), 16385, 1, 8, 0)
png(e('wide_10000001.png'), 10000001, 1, 1, 0)
for name, ihdr in (('height0', (8, 0, 8, 0, 0, 0, 0)), ('filter1', (8, 8, 8, 0, 0, 1, 0)),
                   ('interlace2', (8, 8, 8, 0, 0, 0, 2)), ('depth3', (8, 8, 3, 0, 0, 0, 0)),
                   ('palette16', (8, 8, 16, 3, 0, 0, 0)), ('rgb4', (8, 8, 4, 2, 0, 0, 0))):
    open(e('ihdr_%s.png' % name), 'wb').write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', *ihdr)) + chunk(b'IDAT', zlib.compress(b'\0' * 99)) + chunk(b'IEND', b''))
# JPEG: segments spliced into a real file after SOI, or just before its first SOS.
j = open('jpeg_grey.jpg', 'rb').read()
def seg(m, body):
    return bytes([0xff, m]) + struct.pack('>H', len(body) + 2) + body
def sos_at(d):
    i = 2
    while d[i + 1] != 0xda:
        i += 2 + struct.unpack('>H', d[i + 2:i + 4])[0]
    return i
def after_soi(name, s):
    open(e(name), 'wb').write(j[:2] + s + j[2:])
def before_sos(name, s, d=j):
    k = sos_at(d)
    open(e(name), 'wb').write(d[:k] + s + d[k:])
tiff = b'Exif\0\0MM\0*\0\0\0\x08\0\0\0\0\0\0'
after_soi('two_exif.jpg', seg(0xe1, tiff) + seg(0xe1, tiff.replace(b'MM\0*', b'II*\0')))
after_soi('exif_4_bytes.jpg', seg(0xe1, b'Exif') + seg(0xe1, tiff))
after_soi('xmp_then_exif.jpg', seg(0xe1, b'http://ns.adobe.com/xap/1.0/\0<x/>') + seg(0xe1, tiff))
before_sos('exif_after_sof.jpg', seg(0xe1, tiff))
after_soi('com_dri_fill.jpg', seg(0xfe, b'comment') + seg(0xdd, b'\0\0') + b'\xff\xff\xff')
after_soi('garbage_between.jpg', b'\x00\x01junk')
after_soi('app0_jfif_v2.jpg', seg(0xe0, b'JFIF\0\x02\x01\0\0\1\0\1\0\0'))
after_soi('many_jfif_v2.jpg', seg(0xe0, b'JFIF\0\x02\x01\0\0\1\0\1\0\0') * 120)
after_soi('adobe_xform7.jpg', seg(0xee, b'Adobe\0\x64\0\0\0\0\x07'))
after_soi('app1_len1.jpg', b'\xff\xe1\x00\x01')
after_soi('dqt_bad_index.jpg', seg(0xdb, b'\x05' + bytes(64)))
after_soi('dht_bad.jpg', seg(0xc4, b'\x00' + bytes([0] * 15 + [2]) + b'\1'))
after_soi('dri_bad.jpg', seg(0xdd, b'\0\0\0'))
after_soi('eoi_first.jpg', b'\xff\xd9')
after_soi('soi_twice.jpg', b'\xff\xd8')
after_soi('reserved_marker.jpg', seg(0xf0, b'x'))
after_soi('tem_rst.jpg', b'\xff\x01\xff\xd3')
after_soi('dnl.jpg', seg(0xdc, b'\0\x10'))
sof = lambda m, prec, h, w, comps: seg(m, struct.pack('>BHHB', prec, h, w, len(comps)) + b''.join(bytes(c) for c in comps))
dqt = seg(0xdb, b'\0' + bytes([1] * 64))
dht = seg(0xc4, b'\x00' + bytes([0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]) + bytes(range(12)))
def hdr(name, sofseg, sos_ids, app=b''):
    s = seg(0xda, bytes([len(sos_ids)]) + b''.join(bytes([i, 0]) for i in sos_ids) + b'\x00\x3f\x00')
    open(e(name), 'wb').write(b'\xff\xd8' + app + dqt + sofseg + dht + s + b'\0' * 64 + b'\xff\xd9')
hdr('two_comp.jpg', sof(0xc0, 8, 16, 16, [(1, 0x11, 0), (2, 0x11, 0)]), [1, 2])
hdr('five_comp.jpg', sof(0xc0, 8, 16, 16, [(i, 0x11, 0) for i in range(1, 6)]), [1, 2, 3, 4])
hdr('precision12.jpg', sof(0xc1, 12, 16, 16, [(1, 0x11, 0)]), [1])
hdr('lossless.jpg', sof(0xc3, 8, 16, 16, [(1, 0x11, 0)]), [1])
hdr('arith.jpg', sof(0xc9, 8, 16, 16, [(1, 0x11, 0)]), [1])
hdr('height0.jpg', sof(0xc0, 8, 0, 16, [(1, 0x11, 0)]), [1])
hdr('width65501.jpg', sof(0xc0, 8, 16, 65501, [(1, 0x11, 0)]), [1])
hdr('width16385.jpg', sof(0xc0, 8, 16, 16385, [(1, 0x11, 0)]), [1])
hdr('sampling5.jpg', sof(0xc0, 8, 16, 16, [(1, 0x51, 0)]), [1])
hdr('sos_bad_id.jpg', sof(0xc0, 8, 16, 16, [(1, 0x11, 0)]), [7])
hdr('sos_dup_id.jpg', sof(0xc0, 8, 16, 16, [(1, 0x11, 0), (2, 0x11, 0), (3, 0x11, 0)]), [1, 1])
hdr('cmyk_ycck.jpg', sof(0xc0, 8, 16, 16, [(i, 0x11, 0) for i in range(1, 5)]), [1, 2, 3, 4], seg(0xee, b'Adobe\0\x64\0\0\0\0\x02'))
hdr('rgb_adobe0.jpg', sof(0xc0, 8, 16, 16, [(ord(c), 0x11, 0) for c in 'RGB']), [82, 71, 66], seg(0xee, b'Adobe\0\x64\0\0\0\0\x00'))
hdr('sof_twice.jpg', sof(0xc0, 8, 16, 16, [(1, 0x11, 0)]) + sof(0xc0, 8, 16, 16, [(1, 0x11, 0)]), [1])
hdr('sof_bad_len.jpg', seg(0xc0, struct.pack('>BHHB', 8, 16, 16, 1) + b'\1\x11\0\0'), [1])
PY
exiftool -q -overwrite_original -tagsfromfile jpeg_exif.jpg -exif:all png_exif_et.png
# A photo-sized JPEG with texture, turned by orientation 8: the thumbnail decodes it at 1/4
# (fm_jpeg_shrink) and must still match vips_thumbnail's result closely.
convert -seed 7 -size 4000x3000 plasma:fractal -quality 90 jpeg_large.jpg 2>/dev/null ||
  convert -size 4000x3000 gradient:navy-orange -attenuate 0.3 +noise Gaussian -quality 90 jpeg_large.jpg
exiftool -q -overwrite_original -Orientation#=8 jpeg_large.jpg
# JPEG variants for the libjpeg-only thumbnail path (media_jpeg.c), each compared with libvips'
# thumbnails: baseline and progressive at 4:4:4, 4:2:2 and 4:2:0, grey progressive, all eight
# EXIF orientations, an odd size (decoded at 1/4 with a partial last block), images below the
# box (never enlarged), restart markers.
mkdir -p jpeg_path
convert -seed 3 -size 1200x800 plasma:fractal jpeg_path/src.png
for s in 1x1 2x1 2x2; do
  convert jpeg_path/src.png -sampling-factor $s -quality 90 jpeg_path/base_$s.jpg
  convert jpeg_path/src.png -sampling-factor $s -quality 90 -interlace Plane jpeg_path/prog_$s.jpg
done
for o in 1 2 3 4 5 6 7 8; do
  cp jpeg_path/base_2x2.jpg jpeg_path/orient_$o.jpg
  exiftool -q -overwrite_original -Orientation#=$o jpeg_path/orient_$o.jpg
done
convert jpeg_path/src.png -colorspace Gray -interlace Plane jpeg_path/grey_prog.jpg
convert jpeg_large.jpg -strip -resize '4001x2999!' -quality 85 jpeg_path/odd_4001x2999.jpg
convert jpeg_path/src.png -resize '599x400!' jpeg_path/small_599x400.jpg
convert jpeg_path/src.png -resize '200x100!' jpeg_path/small_200x100.jpg
convert jpeg_path/src.png -resize '1201x7!' jpeg_path/thin_1201x7.jpg
vips copy jpeg_path/src.png 'jpeg_path/restart.jpg[restart_interval=2,Q=85]'
rm -f jpeg_path/src.png
touch .done4
