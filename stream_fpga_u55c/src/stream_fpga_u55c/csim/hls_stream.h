// C-simulation model of hls::stream (our own implementation, not the vendor header): a bounded,
// thread-safe FIFO whose depth is the template argument. As in Vitis HLS, hls::stream<T> (DEPTH 0)
// has the default depth 2 and hls::stream<T, D> derives from it, so tasks take `hls::stream<T>&`.
// Blocking semantics, deadlock detection and occupancy statistics: see stream_csim.h.
#pragma once

#include <deque>
#include <mutex>
#include <string>

#include "stream_csim.h"

namespace hls {

template <typename T, int DEPTH = 0>
class stream;

template <typename T>
class stream<T, 0> : public stream_csim::Channel {
 public:
  static constexpr int default_depth = 2;

  stream() : stream_csim::Channel(auto_name("stream"), "stream", default_depth) {}
  explicit stream(const char* name) : stream_csim::Channel(name, "stream", default_depth) {}

  // Blocking read: waits while the FIFO is empty.
  T read() {
    stream_csim::Scheduler& s = stream_csim::Scheduler::get();
    std::unique_lock<std::mutex> lk(s.mu);
    while (queue_.empty()) s.wait(lk, *this, false);
    T value = queue_.front();
    queue_.pop_front();
    --occupancy;
    ++reads;
    s.wake(*this);
    return value;
  }
  void read(T& value) { value = read(); }

  // Blocking write: waits while the FIFO is full.
  void write(const T& value) {
    stream_csim::Scheduler& s = stream_csim::Scheduler::get();
    std::unique_lock<std::mutex> lk(s.mu);
    while (occupancy >= capacity) s.wait(lk, *this, true);
    queue_.push_back(value);
    grew();
    s.wake(*this);
  }

  bool read_nb(T& value) {
    stream_csim::Scheduler& s = stream_csim::Scheduler::get();
    std::lock_guard<std::mutex> lk(s.mu);
    if (queue_.empty()) return false;
    value = queue_.front();
    queue_.pop_front();
    --occupancy;
    ++reads;
    s.wake(*this);
    return true;
  }

  bool write_nb(const T& value) {
    stream_csim::Scheduler& s = stream_csim::Scheduler::get();
    std::lock_guard<std::mutex> lk(s.mu);
    if (occupancy >= capacity) return false;
    queue_.push_back(value);
    grew();
    s.wake(*this);
    return true;
  }

  bool empty() {
    std::lock_guard<std::mutex> lk(stream_csim::Scheduler::get().mu);
    return queue_.empty();
  }
  bool full() {
    std::lock_guard<std::mutex> lk(stream_csim::Scheduler::get().mu);
    return occupancy >= capacity;
  }
  int size() {
    std::lock_guard<std::mutex> lk(stream_csim::Scheduler::get().mu);
    return occupancy;
  }

  void operator>>(T& value) { value = read(); }
  void operator<<(const T& value) { write(value); }

 protected:
  stream(const char* name, int depth) : stream_csim::Channel(name, "stream", depth) {}
  stream(const std::string& name, int depth) : stream_csim::Channel(name, "stream", depth) {}

 private:
  std::deque<T> queue_;
};

template <typename T, int DEPTH>
class stream : public stream<T, 0> {
  static_assert(DEPTH >= 1, "hls::stream depth must be >= 1");

 public:
  stream() : stream<T, 0>(stream_csim::Channel::auto_name("stream"), DEPTH) {}
  explicit stream(const char* name) : stream<T, 0>(name, DEPTH) {}
};

}  // namespace hls
