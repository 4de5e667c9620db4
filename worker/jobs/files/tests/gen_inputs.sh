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
touch .done
