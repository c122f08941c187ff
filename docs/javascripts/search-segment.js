/*
 * Chinese queries for Material's search, segmented as the index is.
 *
 * At build time jieba splits the pages' Chinese text into words (梯度 / 消失). A query typed
 * in the browser is not split that way, so "梯度消失" would be matched differently from the
 * index and the best page would not come first. On the first focus of the search box this
 * script reads the words of the site's own search index (same origin, no network beyond
 * the site); each query Material sends to its search worker then has every run of Chinese
 * characters split into the longest words of that vocabulary (forward maximum matching),
 * separated by spaces.
 *
 * The site's glossary (search/glossary.json, written by docs/_plugins/glossary.py) adds its
 * terms to the vocabulary and maps the other names of a term to the one the pages use
 * (批量归一化 → 批量规范化): the index only has the preferred term.
 *
 * The search box itself is never rewritten: the reader sees exactly what they typed, and the
 * cursor stays where they put it, so a word can be inserted in the middle of a query. Only
 * the query message to the worker ({type: 2, data: "…"}, Material 9's SEARCH_QUERY) is
 * segmented, by wrapping Worker.prototype.postMessage (Material posts through it on each
 * keyup; the site has no other worker).
 */
(function () {
  "use strict";
  var HAN = /[\u3400-\u9fff\uf900-\ufaff]+/g;
  var vocabulary = null;
  var synonyms = {};
  var longest = 1;

  function addWord(word) {
    vocabulary.add(word);
    longest = Math.max(longest, Math.min(word.length, 8));
  }

  function load() {
    if (vocabulary) return;
    vocabulary = new Set();
    var scope = typeof __md_scope !== "undefined" ? __md_scope : new URL(".", location);
    fetch(new URL("search/search_index.json", scope))
      .then(function (r) { return r.json(); })
      .then(function (index) {
        index.docs.forEach(function (doc) {
          (doc.title + "\u200b" + doc.text).split(/[\s\u200b]+/).forEach(function (word) {
            if (/^[\u3400-\u9fff\uf900-\ufaff]{2,}$/.test(word)) addWord(word);
          });
        });
      })
      .catch(function () { /* without the vocabulary, queries are left as typed */ });
    fetch(new URL("search/glossary.json", scope))
      .then(function (r) { return r.json(); })
      .then(function (glossary) {
        glossary.words.forEach(function (word) {
          if (/^[\u3400-\u9fff\uf900-\ufaff]{2,}$/.test(word)) addWord(word);
        });
        synonyms = glossary.synonyms;
      })
      .catch(function () { /* without the glossary, synonyms are searched as typed */ });
  }

  function segmentRun(run) {
    var words = [];
    for (var i = 0; i < run.length; ) {
      var size = Math.min(longest, run.length - i);
      while (size > 1 && !vocabulary.has(run.substr(i, size))) size--;
      var word = run.substr(i, size);
      words.push(Object.prototype.hasOwnProperty.call(synonyms, word) ? synonyms[word] : word);
      i += size;
    }
    return words.join(" ");
  }

  function segment(query) {
    return query.replace(HAN, function (run) { return " " + segmentRun(run) + " "; })
      .replace(/\s+/g, " ").trim();
  }

  document.addEventListener("focusin", function (event) {
    if (event.target.matches && event.target.matches(".md-search__input")) load();
  });

  var SEARCH_QUERY = 2;
  var postMessage = Worker.prototype.postMessage;
  Worker.prototype.postMessage = function (message) {
    var args = Array.prototype.slice.call(arguments);
    if (message && message.type === SEARCH_QUERY && typeof message.data === "string"
        && vocabulary && vocabulary.size > 0) {
      args[0] = { type: message.type, data: segment(message.data) };
    }
    return postMessage.apply(this, args);
  };
})();
