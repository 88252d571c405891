/* deeptricks frames: size each deeptricks <iframe> on this page to its content.
 *
 *   <script src="https://tricks.example.org/deeptricks/frames.js" defer></script>
 *   <iframe data-deeptricks src="https://tricks.example.org/dropout/units?p=0.7" ...></iframe>
 *
 * A deeptricks view posts {type: "deeptricks:size", height} to its parent whenever its
 * content changes size. This script accepts such a message only from the window of an
 * <iframe data-deeptricks> on this page, and only when the message comes from the origin
 * that iframe's src names; it then sets that iframe's height. Nothing else is read or sent.
 */
(function () {
  "use strict";
  if (window.__deeptricksFrames) return;          // the script may be included more than once
  window.__deeptricksFrames = true;

  function originOf(frame) {
    try {
      var url = new URL(frame.getAttribute("src") || "", document.baseURI);
      // a file:// view (an offline export) posts from the opaque origin "null", while
      // Chromium gives a file: URL the origin "file://"
      return url.protocol === "file:" ? "null" : url.origin;
    }
    catch (e) { return null; }
  }

  window.addEventListener("message", function (event) {
    var data = event.data;
    if (!data || data.type !== "deeptricks:size") return;
    var height = Number(data.height);
    if (!isFinite(height) || height <= 0 || height > 20000) return;
    var frames = document.querySelectorAll("iframe[data-deeptricks]");
    for (var i = 0; i < frames.length; i++) {
      var frame = frames[i];
      if (frame.contentWindow !== event.source) continue;
      if (originOf(frame) !== event.origin) return;
      frame.style.height = Math.ceil(height) + "px";
      frame.setAttribute("scrolling", "no");
      return;
    }
  });
})();
