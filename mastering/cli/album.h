#pragma once
// tl-master --album and --album-file: an album file's songs (take folders mixed first)
// mastered into a folder with one gain, the album image and its CUE sheet.

#include <string>
#include <vector>

#include "tl/mastering/album_image.h"
#include "tl/mastering/master.h"

namespace tl::master_cli {

//! --album FILES: an album file of those songs in order, titled by their names, 2 s apart,
//! in the first one's format.
tl::mastering::AlbumFile album_of(const std::vector<std::string>& inputs);

//! Masters the album into out_dir and prints the report. Returns the exit code.
int master_album_file(tl::mastering::AlbumFile album, const std::string& out_dir,
                      const tl::mastering::MasterSettings& settings, bool json,
                      const tl::mastering::Progress& progress);

}  // namespace tl::master_cli
