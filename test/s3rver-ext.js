// s3rver for the tests: the npm package s3rver 3.7.1 on 127.0.0.1, plus
// the two multipart calls it lacks, so that tests can check that a failed
// upload leaves nothing behind:
//   DELETE /<bucket>/<key>?uploadId=ID   AbortMultipartUpload
//   GET /<bucket>?uploads                ListMultipartUploads
// Both work on s3rver's own store (<dir>/<bucket>/._S3rver_uploads/<ID>/)
// and skip its authentication.  Prints "ready <port>" once listening.
//
// node s3rver-ext.js DIR PORT [--allow-mismatched-signatures] [--bucket NAME]...
'use strict';

const fs = require('fs');
const path = require('path');
const S3rver = require('s3rver');

const [directory, port, ...flags] = process.argv.slice(2);
const buckets = flags.filter((f, i) => flags[i - 1] === '--bucket');
const UPLOADS = '._S3rver_uploads';

function xmlEscape(s) {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function uploadsOf(bucket) {
  const dir = path.join(directory, bucket, UPLOADS);
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).map(id => ({
    id,
    key: fs.readFileSync(path.join(dir, id, 'key'), 'utf8'),
  }));
}

async function multipartExtras(ctx, next) {
  const m = /^\/([^/]+)(?:\/(.+))?$/.exec(ctx.path);
  if (m && m[2] && ctx.method === 'DELETE' && 'uploadId' in ctx.query) {
    const id = String(ctx.query.uploadId);
    const dir = path.join(directory, m[1], UPLOADS, id);
    ctx.type = 'application/xml';
    if (!/^[0-9a-f]+$/.test(id) || !fs.existsSync(dir)) {
      ctx.status = 404;
      ctx.body = '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchUpload</Code>' +
        '<Message>The specified upload does not exist.</Message></Error>';
      return;
    }
    fs.rmSync(dir, { recursive: true });
    ctx.status = 204;
    ctx.body = null;
    return;
  }
  if (m && !m[2] && ctx.method === 'GET' && 'uploads' in ctx.query) {
    const items = uploadsOf(m[1]).map(u =>
      `<Upload><Key>${xmlEscape(u.key)}</Key><UploadId>${u.id}</UploadId></Upload>`);
    ctx.type = 'application/xml';
    ctx.body = '<?xml version="1.0" encoding="UTF-8"?>\n<ListMultipartUploadsResult>' +
      `<Bucket>${xmlEscape(m[1])}</Bucket>${items.join('')}</ListMultipartUploadsResult>`;
    return;
  }
  return next();
}

// s3rver writes a part through a stream whose errors nobody listens to:
// a part request cut short by the client while the upload is being aborted
// opens its file after the abort removed the upload's directory, and the
// unhandled ENOENT ended the whole server (S3 itself answers such a part
// with NoSuchUpload).  That one error is logged; any other still ends it.
process.on('uncaughtException', err => {
  const inUploads = err && err.code === 'ENOENT' &&
    String(err.path || '').includes(path.sep + UPLOADS + path.sep);
  console.error(inUploads ? `dropped a part of an aborted upload: ${err.path}` : err);
  if (!inUploads) process.exit(1);
});

const app = new S3rver({
  directory,
  address: '127.0.0.1',
  port: Number(port),
  silent: true,
  allowMismatchedSignatures: flags.includes('--allow-mismatched-signatures'),
  configureBuckets: buckets.map(name => ({ name, configs: [] })),
});
app.middleware.unshift(multipartExtras);
app.run().then(({ port: p }) => console.log('ready %d', p)).catch(err => {
  console.error(err);
  process.exit(1);
});
