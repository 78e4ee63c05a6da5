// The capture page: Smile ID's component and a few lines that hand its images to smile. No
// inline script (the Content-Security-Policy allows scripts from this origin only).

/** Content-Security-Policy of the page: this origin only, plus the component's web fonts and camera/canvas data. */
export const CAPTURE_PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob: mediastream:",
  "style-src 'self' 'unsafe-inline' https://fonts.googleapis.com",
  'font-src https://fonts.gstatic.com',
  "frame-ancestors 'none'",
].join('; ');

export function capturePage(base: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>smile · take a selfie</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 0 auto; max-width: 40rem; padding: 1rem; color: #1a1a1a; }
  #status { margin: 1rem 0; }
  #status.error { color: #b00020; }
</style>
<script src="${base}/smart-camera-web.js"></script>
<script src="${base}/page.js" defer></script>
</head>
<body>
<h1>Take a selfie for smile</h1>
<p id="status">Allow the camera, then follow the steps. The photos go only to the smile command on this computer.</p>
<smart-camera-web hide-back-to-host></smart-camera-web>
</body>
</html>
`;
}

export function capturePageScript(base: string): string {
  return `'use strict';
(() => {
  const camera = document.querySelector('smart-camera-web');
  const status = document.getElementById('status');
  let sent = false;
  const say = (text, error) => {
    status.textContent = text;
    status.className = error ? 'error' : '';
  };
  camera.addEventListener('imagesComputed', async (event) => {
    say('Sending the photos to smile…');
    try {
      const answer = await fetch(${JSON.stringify(`${base}/images`)}, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(event.detail),
      });
      const result = await answer.json().catch(() => ({}));
      if (!answer.ok) throw new Error(result.error || 'HTTP ' + answer.status);
      sent = true;
      say('Done: smile has the photos and goes on in the terminal. You can close this tab.');
    } catch (error) {
      say('smile did not take the photos (' + error.message + '). Look at the terminal.', true);
    }
  });
  const cancel = () => {
    if (sent) return;
    sent = true;
    navigator.sendBeacon(${JSON.stringify(`${base}/cancel`)});
    say('Cancelled: nothing was sent. You can close this tab.', true);
  };
  camera.addEventListener('close', cancel);
  camera.addEventListener('backExit', cancel);
  window.addEventListener('pagehide', () => {
    if (!sent) navigator.sendBeacon(${JSON.stringify(`${base}/gone`)});
  });
})();
`;
}
