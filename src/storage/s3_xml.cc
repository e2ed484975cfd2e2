#include "storage/s3_xml.h"
#include "util/utf8.h"

#include <charconv>

namespace tb::storage::s3xml {
namespace {

constexpr int kMaxDepth = 32;
constexpr size_t kMaxElements = 4'000'000;
constexpr size_t kMaxBytes = 256u << 20;

bool IsWs(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool IsNameChar(char c) { return !IsWs(c) && c != '/' && c != '>' && c != '<' && c != '=' && c != '"' && c != '\'' && c != '&'; }


class Parser {
 public:
  explicit Parser(std::string_view in) : in_(in) {}

  Result<Element> Document() {
    if (in_.size() > kMaxBytes) return Fail("document too large");
    if (in_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;
    TB_RETURN_IF_ERROR(SkipMisc());
    if (pos_ >= in_.size() || in_[pos_] != '<') return Fail("expected root element");
    Element root;
    TB_RETURN_IF_ERROR(ParseElement(&root, 1));
    TB_RETURN_IF_ERROR(SkipMisc());
    if (pos_ != in_.size()) return Fail("content after root element");
    return root;
  }

 private:
  Status Fail(const std::string& what) const {
    return Status::Corruption("malformed XML at byte " + std::to_string(pos_) + ": " + what);
  }
  bool StartsWith(std::string_view s) const { return in_.substr(pos_, s.size()) == s; }
  void SkipWs() {
    while (pos_ < in_.size() && IsWs(in_[pos_])) ++pos_;
  }
  // Skips to just past `terminator`; error if absent.
  Status SkipPast(std::string_view terminator, const char* what) {
    size_t end = in_.find(terminator, pos_);
    if (end == std::string_view::npos) return Fail(std::string("unterminated ") + what);
    pos_ = end + terminator.size();
    return Status::Ok();
  }
  // Whitespace, comments and processing instructions (outside the root).
  Status SkipMisc() {
    for (;;) {
      SkipWs();
      if (StartsWith("<?")) {
        TB_RETURN_IF_ERROR(SkipPast("?>", "processing instruction"));
      } else if (StartsWith("<!--")) {
        TB_RETURN_IF_ERROR(SkipPast("-->", "comment"));
      } else if (StartsWith("<!")) {
        return Fail("DOCTYPE/declarations not supported");
      } else {
        return Status::Ok();
      }
    }
  }
  Result<std::string_view> Name() {
    size_t start = pos_;
    while (pos_ < in_.size() && IsNameChar(in_[pos_])) ++pos_;
    if (pos_ == start) return Fail("expected a name");
    return in_.substr(start, pos_ - start);
  }
  static std::string LocalName(std::string_view qname) {
    size_t colon = qname.rfind(':');
    return std::string(colon == std::string_view::npos ? qname : qname.substr(colon + 1));
  }
  // Decodes an entity starting at '&'; appends to out.
  Status Entity(std::string* out) {
    size_t semi = in_.find(';', pos_);
    if (semi == std::string_view::npos || semi - pos_ > 12) return Fail("bad entity");
    std::string_view ent = in_.substr(pos_ + 1, semi - pos_ - 1);
    if (ent == "amp") {
      out->push_back('&');
    } else if (ent == "lt") {
      out->push_back('<');
    } else if (ent == "gt") {
      out->push_back('>');
    } else if (ent == "quot") {
      out->push_back('"');
    } else if (ent == "apos") {
      out->push_back('\'');
    } else if (ent.size() >= 2 && ent[0] == '#') {
      bool hex = ent[1] == 'x';
      std::string_view digits = ent.substr(hex ? 2 : 1);
      uint32_t cp = 0;
      auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), cp, hex ? 16 : 10);
      if (digits.empty() || ec != std::errc() || p != digits.data() + digits.size() || cp == 0 ||
          cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        return Fail("bad character reference");
      }
      AppendUtf8(cp, out);
    } else {
      return Fail("unknown entity");
    }
    pos_ = semi + 1;
    return Status::Ok();
  }
  Status Attributes() {
    for (;;) {
      size_t before = pos_;
      SkipWs();
      if (pos_ >= in_.size()) return Fail("unterminated start tag");
      if (in_[pos_] == '>' || in_[pos_] == '/') return Status::Ok();
      if (pos_ == before) return Fail("expected whitespace before attribute");
      TB_ASSIGN_OR_RETURN(std::string_view name, Name());
      (void)name;
      SkipWs();
      if (pos_ >= in_.size() || in_[pos_] != '=') return Fail("expected '=' in attribute");
      ++pos_;
      SkipWs();
      if (pos_ >= in_.size() || (in_[pos_] != '"' && in_[pos_] != '\'')) {
        return Fail("expected quoted attribute value");
      }
      char quote = in_[pos_++];
      size_t end = in_.find(quote, pos_);
      if (end == std::string_view::npos) return Fail("unterminated attribute value");
      if (in_.substr(pos_, end - pos_).find('<') != std::string_view::npos) {
        return Fail("'<' in attribute value");
      }
      pos_ = end + 1;
    }
  }
  Status ParseElement(Element* el, int depth) {
    if (depth > kMaxDepth) return Fail("nesting too deep");
    if (++elements_ > kMaxElements) return Fail("too many elements");
    ++pos_;  // '<'
    TB_ASSIGN_OR_RETURN(std::string_view qname, Name());
    el->name = LocalName(qname);
    TB_RETURN_IF_ERROR(Attributes());
    if (in_[pos_] == '/') {
      if (!StartsWith("/>")) return Fail("expected '/>'");
      pos_ += 2;
      return Status::Ok();
    }
    ++pos_;  // '>'
    for (;;) {
      if (pos_ >= in_.size()) return Fail("unterminated element <" + el->name + ">");
      char c = in_[pos_];
      if (c == '&') {
        TB_RETURN_IF_ERROR(Entity(&el->text));
      } else if (c != '<') {
        size_t next = in_.find_first_of("<&", pos_);
        if (next == std::string_view::npos) next = in_.size();
        el->text.append(in_.substr(pos_, next - pos_));
        pos_ = next;
      } else if (StartsWith("</")) {
        pos_ += 2;
        TB_ASSIGN_OR_RETURN(std::string_view end_name, Name());
        if (end_name != qname) return Fail("mismatched end tag </" + std::string(end_name) + ">");
        SkipWs();
        if (pos_ >= in_.size() || in_[pos_] != '>') return Fail("expected '>'");
        ++pos_;
        return Status::Ok();
      } else if (StartsWith("<!--")) {
        TB_RETURN_IF_ERROR(SkipPast("-->", "comment"));
      } else if (StartsWith("<![CDATA[")) {
        pos_ += 9;
        size_t end = in_.find("]]>", pos_);
        if (end == std::string_view::npos) return Fail("unterminated CDATA");
        el->text.append(in_.substr(pos_, end - pos_));
        pos_ = end + 3;
      } else if (StartsWith("<?")) {
        TB_RETURN_IF_ERROR(SkipPast("?>", "processing instruction"));
      } else if (StartsWith("<!")) {
        return Fail("unexpected declaration");
      } else {
        el->children.emplace_back();
        TB_RETURN_IF_ERROR(ParseElement(&el->children.back(), depth + 1));
      }
    }
  }

  std::string_view in_;
  size_t pos_ = 0;
  size_t elements_ = 0;
};

std::string Unquote(std::string s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') return s.substr(1, s.size() - 2);
  return s;
}

Result<Element> ParseRoot(std::string_view bytes, std::string_view root, const char* what) {
  auto doc = Parse(bytes);
  if (!doc.ok()) return doc.status().Prefix(std::string("S3 ") + what + " response");
  if (doc->name != root) {
    return Status::Corruption(std::string("S3 ") + what + " response: root element <" + doc->name +
                              ">, expected <" + std::string(root) + ">");
  }
  return doc;
}

Result<uint64_t> ParseU64(const std::string& s, const char* what) {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) {
    return Status::Corruption(std::string("S3 response: bad ") + what + " '" + s.substr(0, 40) + "'");
  }
  return v;
}

Result<bool> ParseBool(const std::string& s) {
  if (s == "true") return true;
  if (s == "false" || s.empty()) return false;
  return Status::Corruption("S3 response: bad IsTruncated '" + s.substr(0, 40) + "'");
}

}  // namespace

const Element* Element::Child(std::string_view n) const {
  for (const auto& c : children) {
    if (c.name == n) return &c;
  }
  return nullptr;
}

std::string Element::ChildText(std::string_view n) const {
  const Element* c = Child(n);
  return c ? c->text : std::string();
}

Result<Element> Parse(std::string_view bytes) { return Parser(bytes).Document(); }

Result<ListObjectsV2Result> ParseListObjectsV2(std::string_view bytes) {
  TB_ASSIGN_OR_RETURN(Element doc, ParseRoot(bytes, "ListBucketResult", "ListObjectsV2"));
  ListObjectsV2Result r;
  TB_ASSIGN_OR_RETURN(r.is_truncated, ParseBool(doc.ChildText("IsTruncated")));
  r.next_continuation_token = doc.ChildText("NextContinuationToken");
  for (const auto& c : doc.children) {
    if (c.name == "Contents") {
      ObjectEntry e;
      const Element* key = c.Child("Key");
      if (!key) return Status::Corruption("S3 ListObjectsV2 response: <Contents> without <Key>");
      e.key = key->text;
      TB_ASSIGN_OR_RETURN(e.size_bytes, ParseU64(c.ChildText("Size"), "Size"));
      e.etag = Unquote(c.ChildText("ETag"));
      r.contents.push_back(std::move(e));
    } else if (c.name == "CommonPrefixes") {
      r.common_prefixes.push_back(c.ChildText("Prefix"));
    }
  }
  if (r.is_truncated && r.next_continuation_token.empty()) {
    return Status::Corruption("S3 ListObjectsV2 response: truncated without NextContinuationToken");
  }
  return r;
}

Result<ErrorDocument> ParseError(std::string_view bytes) {
  TB_ASSIGN_OR_RETURN(Element doc, ParseRoot(bytes, "Error", "error"));
  ErrorDocument e{doc.ChildText("Code"), doc.ChildText("Message"), doc.ChildText("RequestId"),
                  doc.ChildText("Resource")};
  if (e.code.empty()) return Status::Corruption("S3 error response without <Code>");
  return e;
}

Result<InitiateMultipartUploadResult> ParseInitiateMultipartUpload(std::string_view bytes) {
  TB_ASSIGN_OR_RETURN(Element doc, ParseRoot(bytes, "InitiateMultipartUploadResult",
                                             "CreateMultipartUpload"));
  InitiateMultipartUploadResult r{doc.ChildText("Bucket"), doc.ChildText("Key"),
                                  doc.ChildText("UploadId")};
  if (r.upload_id.empty()) return Status::Corruption("S3 CreateMultipartUpload response without <UploadId>");
  return r;
}

Result<CompleteMultipartUploadResult> ParseCompleteMultipartUpload(std::string_view bytes) {
  auto doc = Parse(bytes);
  if (!doc.ok()) return doc.status().Prefix("S3 CompleteMultipartUpload response");
  if (doc->name == "Error") {
    std::string code = doc->ChildText("Code");
    bool retry = code == "InternalError" || code == "SlowDown";
    return Status::Network("CompleteMultipartUpload failed: " + code + ": " + doc->ChildText("Message") +
                               " (request id " + doc->ChildText("RequestId") + ")",
                           retry);
  }
  if (doc->name != "CompleteMultipartUploadResult") {
    return Status::Corruption("S3 CompleteMultipartUpload response: unexpected root <" + doc->name + ">");
  }
  CompleteMultipartUploadResult r{doc->ChildText("Location"), doc->ChildText("Bucket"),
                                  doc->ChildText("Key"), Unquote(doc->ChildText("ETag"))};
  return r;
}

Result<ListMultipartUploadsResult> ParseListMultipartUploads(std::string_view bytes) {
  TB_ASSIGN_OR_RETURN(Element doc,
                      ParseRoot(bytes, "ListMultipartUploadsResult", "ListMultipartUploads"));
  ListMultipartUploadsResult r;
  TB_ASSIGN_OR_RETURN(r.is_truncated, ParseBool(doc.ChildText("IsTruncated")));
  r.next_key_marker = doc.ChildText("NextKeyMarker");
  r.next_upload_id_marker = doc.ChildText("NextUploadIdMarker");
  for (const auto& c : doc.children) {
    if (c.name == "Upload") r.uploads.push_back({c.ChildText("Key"), c.ChildText("UploadId")});
  }
  return r;
}

Result<DeleteObjectsResult> ParseDeleteObjects(std::string_view bytes) {
  TB_ASSIGN_OR_RETURN(Element doc, ParseRoot(bytes, "DeleteResult", "DeleteObjects"));
  DeleteObjectsResult r;
  for (const auto& c : doc.children) {
    if (c.name == "Deleted") {
      r.deleted.push_back(c.ChildText("Key"));
    } else if (c.name == "Error") {
      r.errors.push_back({c.ChildText("Key"), c.ChildText("Code"), c.ChildText("Message")});
    }
  }
  return r;
}

std::string Escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      case '\r': out += "&#13;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::string BuildCompleteMultipartUpload(const std::vector<std::string>& part_etags) {
  std::string out = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
  for (size_t i = 0; i < part_etags.size(); ++i) {
    out += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>\"" +
           Escape(part_etags[i]) + "\"</ETag></Part>";
  }
  out += "</CompleteMultipartUpload>";
  return out;
}

std::string BuildDeleteObjects(const std::vector<std::string>& keys) {
  std::string out = "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet>true</Quiet>";
  for (const auto& k : keys) out += "<Object><Key>" + Escape(k) + "</Key></Object>";
  out += "</Delete>";
  return out;
}

}  // namespace tb::storage::s3xml
