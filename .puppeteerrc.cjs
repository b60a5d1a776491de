// Puppeteer never downloads a browser here: there is no network at run time,
// and tests drive Debian's chromium (/usr/bin/chromium) through executablePath.
module.exports = { skipDownload: true };
