// C-simulation model of hls::stream_of_blocks (our own implementation, not the vendor header): a
// channel of DEPTH array blocks (DEPTH 2 = ping-pong) between one writer and one reader task.
// hls::write_lock acquires a free block (waits while all blocks are in use: FULL) and commits it when
// it goes out of scope; hls::read_lock acquires the oldest committed block (waits while none is
// committed: EMPTY) and frees it when it goes out of scope. Occupancy = blocks acquired by the writer
// and not yet freed by the reader. Deadlock detection and statistics: see stream_csim.h.
#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <vector>

#include "stream_csim.h"

namespace stream_csim {

template <typename T>
class BlockChannel : public Channel {
 public:
  BlockChannel(const std::string& name, int depth) : Channel(name, "stream_of_blocks", depth), blocks_(depth) {}

  T& acquire_write() {
    Scheduler& s = Scheduler::get();
    std::unique_lock<std::mutex> lk(s.mu);
    while (occupancy >= capacity) s.wait(lk, *this, true);
    grew();
    return blocks_[static_cast<std::size_t>(tail_)].data;
  }
  void commit() {
    Scheduler& s = Scheduler::get();
    std::lock_guard<std::mutex> lk(s.mu);
    tail_ = (tail_ + 1) % capacity;
    ++committed_;
    s.wake(*this);
  }
  T& acquire_read() {
    Scheduler& s = Scheduler::get();
    std::unique_lock<std::mutex> lk(s.mu);
    while (committed_ == 0) s.wait(lk, *this, false);
    return blocks_[static_cast<std::size_t>(head_)].data;
  }
  void release() {
    Scheduler& s = Scheduler::get();
    std::lock_guard<std::mutex> lk(s.mu);
    head_ = (head_ + 1) % capacity;
    --committed_;
    --occupancy;
    ++reads;
    s.wake(*this);
  }

 private:
  struct Block {
    T data;
  };
  std::vector<Block> blocks_;
  int head_ = 0;
  int tail_ = 0;
  int committed_ = 0;
};

}  // namespace stream_csim

namespace hls {

template <typename T, int DEPTH = 2>
class stream_of_blocks : public stream_csim::BlockChannel<T> {
  static_assert(DEPTH >= 1, "hls::stream_of_blocks depth must be >= 1");

 public:
  stream_of_blocks() : stream_csim::BlockChannel<T>(stream_csim::Channel::auto_name("stream_of_blocks"), DEPTH) {}
  explicit stream_of_blocks(const char* name) : stream_csim::BlockChannel<T>(name, DEPTH) {}
};

template <typename T>
class write_lock {
 public:
  template <int DEPTH>
  explicit write_lock(stream_of_blocks<T, DEPTH>& s) : channel_(s), block_(s.acquire_write()) {}
  write_lock(const write_lock&) = delete;
  write_lock& operator=(const write_lock&) = delete;
  ~write_lock() { channel_.commit(); }

  auto& operator[](std::size_t i) { return block_[i]; }
  operator T&() { return block_; }

 private:
  stream_csim::BlockChannel<T>& channel_;
  T& block_;
};

template <typename T>
class read_lock {
 public:
  template <int DEPTH>
  explicit read_lock(stream_of_blocks<T, DEPTH>& s) : channel_(s), block_(s.acquire_read()) {}
  read_lock(const read_lock&) = delete;
  read_lock& operator=(const read_lock&) = delete;
  ~read_lock() { channel_.release(); }

  const auto& operator[](std::size_t i) const { return block_[i]; }
  operator const T&() const { return block_; }

 private:
  stream_csim::BlockChannel<T>& channel_;
  T& block_;
};

}  // namespace hls
