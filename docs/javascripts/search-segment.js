/*
 * Chinese queries for Material's search, segmented as the index is.
 *
 * At build time jieba splits the pages' Chinese text into words (梯度 / 消失). A query typed
 * in the browser is not split that way, so "梯度消失" would be matched differently from the
 * index and the best page would not come first. On the first focus of the search box this
 * script reads the words of the site's own search index (same origin, no network beyond
 * the site) and, while typing, splits each run of Chinese characters of the query into the
 * longest words of that vocabulary (forward maximum matching), separated by spaces.
 */
(function () {
  "use strict";
  var HAN = /[\u3400-\u9fff\uf900-\ufaff]+/g;
  var vocabulary = null;
  var longest = 1;

  function load() {
    if (vocabulary) return;
    vocabulary = new Set();
    var scope = typeof __md_scope !== "undefined" ? __md_scope : new URL(".", location);
    fetch(new URL("search/search_index.json", scope))
      .then(function (r) { return r.json(); })
      .then(function (index) {
        index.docs.forEach(function (doc) {
          (doc.title + "\u200b" + doc.text).split(/[\s\u200b]+/).forEach(function (word) {
            if (/^[\u3400-\u9fff\uf900-\ufaff]{2,}$/.test(word)) {
              vocabulary.add(word);
              longest = Math.max(longest, Math.min(word.length, 8));
            }
          });
        });
      })
      .catch(function () { /* without the vocabulary, queries are left as typed */ });
  }

  function segmentRun(run) {
    var words = [];
    for (var i = 0; i < run.length; ) {
      var size = Math.min(longest, run.length - i);
      while (size > 1 && !vocabulary.has(run.substr(i, size))) size--;
      words.push(run.substr(i, size));
      i += size;
    }
    return words.join(" ");
  }

  function segment(query) {
    return query.replace(HAN, function (run) { return " " + segmentRun(run) + " "; })
      .replace(/\s+/g, " ").replace(/^ /, "");
  }

  document.addEventListener("focusin", function (event) {
    if (event.target.matches && event.target.matches(".md-search__input")) load();
  });
  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches(".md-search__input") || event.isComposing) return;
    if (!vocabulary || vocabulary.size === 0) return;
    var value = segment(input.value);
    if (value !== input.value) input.value = value;
  }, true);
})();
