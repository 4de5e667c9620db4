// S3 emulator for the storage provider tests: @20minutes/s3rver (a fork of s3rver that
// checks SigV4 signatures) on 127.0.0.1 with one key pair of our choosing and the buckets
// named on the command line. Port 0 picks a free port; the line "listening HOST:PORT" on
// stdout tells the caller which. Usage: S3_KEY=.. S3_SECRET=.. node run-s3.js PORT DIR BUCKET...
'use strict';
const fs = require('fs');
const S3rver = require('@20minutes/s3rver');
const Account = require('@20minutes/s3rver/lib/models/account');
const S3Object = require('@20minutes/s3rver/lib/models/object');
const FilesystemStore = require('@20minutes/s3rver/lib/stores/filesystem');

const [port, dir, ...buckets] = process.argv.slice(2);
const key = process.env.S3_KEY;
const secret = process.env.S3_SECRET;
if (!port || !dir || !key || !secret) {
  console.error('usage: S3_KEY=.. S3_SECRET=.. node run-s3.js PORT DIR BUCKET...');
  process.exit(2);
}
// Only our pair is valid: the emulator's built-in S3RVER/S3RVER pair is revoked.
Account.DUMMY_ACCOUNT.revokeAccessKey('S3RVER');
Account.DUMMY_ACCOUNT.createKeyPair(key, secret);

// An emulator bug fixed so it answers like S3: any range of an empty object got a
// Content-Length of 1 and no body (S3: 416 InvalidRange). Its other range bug, "bytes=0-0"
// read as "to the end", is left in: the client must deliver only the bytes it asked for.
const getObject = FilesystemStore.prototype.getObject;
FilesystemStore.prototype.getObject = async function (bucket, key, options) {
  if (options && options.start !== undefined) {
    let md;
    try {
      md = await this.getMetadata(bucket, key);
    } catch (err) {
      if (err.code === 'ENOENT') return null;
      throw err;
    }
    if (Number(md['content-length']) === 0) {
      const object = new S3Object(bucket, key, null, md);
      object.range = { start: options.start, end: options.end === undefined ? 0 : options.end };
      return object;
    }
  }
  return getObject.call(this, bucket, key, options);
};

fs.mkdirSync(dir, { recursive: true });
const server = new S3rver({
  address: '127.0.0.1',
  port: Number(port),
  directory: dir,
  silent: !process.env.S3_VERBOSE,
  configureBuckets: buckets.map((name) => ({ name, configs: [] })),
});
server.run((err, addr) => {
  if (err) {
    console.error(err);
    process.exit(1);
  }
  console.log(`listening ${addr.address}:${addr.port}`);
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
