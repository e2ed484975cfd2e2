#include "render/png_writer.h"

#include <png.h>

#include <csetjmp>
#include <cstring>

namespace tb::render {
namespace {

struct Sink {
  std::string* out;
};
void WriteBytes(png_structp png, png_bytep data, png_size_t n) {
  static_cast<Sink*>(png_get_io_ptr(png))->out->append(reinterpret_cast<char*>(data), n);
}
void Flush(png_structp) {}

struct Source {
  std::string_view in;
  size_t pos = 0;
};
void ReadBytes(png_structp png, png_bytep data, png_size_t n) {
  auto* s = static_cast<Source*>(png_get_io_ptr(png));
  if (s->pos + n > s->in.size()) png_error(png, "truncated PNG");
  std::memcpy(data, s->in.data() + s->pos, n);
  s->pos += n;
}

void Quiet(png_structp, png_const_charp) {}
[[noreturn]] void Fail(png_structp png, png_const_charp) { png_longjmp(png, 1); }

// libpng reports errors with longjmp: keep the setjmp frames free of C++ objects that need
// destructors.
bool Encode(png_structp png, png_infop info, const RgbImage& image, png_bytep* rows) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_set_IHDR(png, info, image.width, image.height, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  png_write_image(png, rows);
  png_write_end(png, nullptr);
  return true;
}

bool ReadHeader(png_structp png, png_infop info, png_uint_32* w, png_uint_32* h) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_read_info(png, info);
  png_set_expand(png);
  png_set_strip_16(png);
  png_set_strip_alpha(png);
  png_set_gray_to_rgb(png);
  png_read_update_info(png, info);
  *w = png_get_image_width(png, info);
  *h = png_get_image_height(png, info);
  return true;
}

bool ReadRows(png_structp png, png_infop info, png_bytep* rows) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_read_image(png, rows);
  png_read_end(png, info);
  return true;
}

}  // namespace

Result<std::string> EncodePng(const RgbImage& image) {
  if (image.width <= 0 || image.height <= 0 ||
      image.rgb.size() != static_cast<size_t>(image.width) * image.height * 3) {
    return Status::InvalidArgument("png: bad image dimensions");
  }
  std::string out;
  Sink sink{&out};
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, Fail, Quiet);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  if (!info) {
    png_destroy_write_struct(&png, nullptr);
    return Status::Internal("png: out of memory");
  }
  png_set_write_fn(png, &sink, WriteBytes, Flush);
  std::vector<png_bytep> rows(image.height);
  for (int y = 0; y < image.height; ++y) {
    rows[y] = const_cast<png_bytep>(image.rgb.data() + static_cast<size_t>(y) * image.width * 3);
  }
  bool ok = Encode(png, info, image, rows.data());
  png_destroy_write_struct(&png, &info);
  if (!ok) return Status::Internal("png: encoding failed");
  return out;
}

Result<RgbImage> DecodePng(std::string_view bytes, const std::string& name) {
  if (bytes.size() < 8 || png_sig_cmp(reinterpret_cast<png_const_bytep>(bytes.data()), 0, 8)) {
    return Status::Corruption(name + ": not a PNG file");
  }
  Source src{bytes, 0};
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, nullptr, Fail, Quiet);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  if (!info) {
    png_destroy_read_struct(&png, nullptr, nullptr);
    return Status::Internal("png: out of memory");
  }
  png_set_read_fn(png, &src, ReadBytes);
  png_uint_32 w = 0, h = 0;
  RgbImage image;
  bool ok = ReadHeader(png, info, &w, &h) && png_get_rowbytes(png, info) == w * 3;
  if (ok) {
    image.width = static_cast<int>(w);
    image.height = static_cast<int>(h);
    image.rgb.resize(static_cast<size_t>(w) * h * 3);
    std::vector<png_bytep> rows(h);
    for (png_uint_32 y = 0; y < h; ++y) rows[y] = image.rgb.data() + static_cast<size_t>(y) * w * 3;
    ok = ReadRows(png, info, rows.data());
  }
  png_destroy_read_struct(&png, &info, nullptr);
  if (!ok) return Status::Corruption(name + ": PNG decoding failed");
  return image;
}

}  // namespace tb::render
