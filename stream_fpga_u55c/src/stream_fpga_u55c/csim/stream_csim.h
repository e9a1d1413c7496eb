// stream-fpga-u55c C-simulation runtime: bounded channels, one std::thread per dataflow task and
// exact global deadlock detection.
//
// Model. Every channel (hls::stream, hls::stream_of_blocks) has a fixed capacity. A task that cannot
// proceed (read from an empty channel, write to a full one) registers as blocked on that channel and
// sleeps on the channel's condition variable. All bookkeeping happens under one global mutex:
//   live    = tasks of the running dataflow region that have not returned,
//   blocked = tasks registered as blocked.
// A state change of a channel (a push, a pop, a block committed or released) un-registers every task
// waiting on that channel *at the moment of the change* (blocked -= waiters) and bumps the channel's
// wake generation; a woken task leaves its wait only when the generation of its own channel changed,
// so a task is never counted as blocked twice and a spurious wake-up does not change any count.
// Deadlock is therefore exact, with no timeout: it is declared when a task blocks (or returns) and
// every live task is blocked. The report names each task, the channel it waits on and whether that
// channel is FULL or EMPTY; then every task unwinds (stream_csim::Aborted) and Dataflow::run() throws
// stream_csim::Deadlock.
//
// Every channel records its maximum occupancy; the statistics of destroyed channels are kept for the
// testbench (channel_stats(), write_channel_stats()).
#pragma once

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <fstream>
#include <functional>
#include <iostream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace stream_csim {

// Thrown by Dataflow::run() when every live task of the region is blocked.
class Deadlock : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Thrown inside the tasks of a region that is being torn down (after a deadlock or a task error).
struct Aborted {};

// Final statistics of one channel.
struct ChannelStats {
  std::string name;
  std::string kind;
  int capacity;
  int max_occupancy;
  long long writes;
  long long reads;
  int leftover;
};

class Channel;

struct Task {
  std::string name;
  const Channel* waiting = nullptr;
  bool waiting_full = false;
};

class Scheduler {
 public:
  static Scheduler& get() {
    static Scheduler instance;
    return instance;
  }
  static Task*& current() {
    thread_local Task* task = nullptr;
    return task;
  }

  std::mutex mu;
  std::string region;
  std::vector<Task*> tasks;
  int live = 0;
  int blocked = 0;
  bool running = false;
  bool aborted = false;
  std::string report;
  std::exception_ptr error;
  std::vector<Channel*> channels;
  std::vector<ChannelStats> finished;
  long long next_id = 0;

  // Called with `lk` held when the current task cannot proceed on `ch`.
  void wait(std::unique_lock<std::mutex>& lk, Channel& ch, bool full);
  // Called with the lock held after a state change of `ch`.
  void wake(Channel& ch);
  // Called with the lock held: mark the region aborted and wake every sleeping task.
  void abort_all();
  void declare_deadlock();
};

class Channel {
 public:
  Channel(std::string channel_name, const char* channel_kind, int channel_capacity)
      : name(std::move(channel_name)), kind(channel_kind), capacity(channel_capacity) {
    if (capacity < 1) throw std::invalid_argument("stream_csim: channel '" + name + "' needs a depth >= 1");
    Scheduler& s = Scheduler::get();
    std::lock_guard<std::mutex> lk(s.mu);
    s.channels.push_back(this);
  }
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;
  virtual ~Channel() {
    Scheduler& s = Scheduler::get();
    std::lock_guard<std::mutex> lk(s.mu);
    s.channels.erase(std::remove(s.channels.begin(), s.channels.end(), this), s.channels.end());
    s.finished.push_back({name, kind, capacity, max_occupancy, writes, reads, occupancy});
    if (occupancy != 0)
      std::cerr << "stream_csim: " << kind << " '" << name << "' destroyed with " << occupancy
                << " unread item(s)\n";
  }

  const std::string name;
  const std::string kind;
  const int capacity;
  int occupancy = 0;
  int max_occupancy = 0;
  long long writes = 0;
  long long reads = 0;
  std::condition_variable cv;
  std::uint64_t generation = 0;
  int waiters = 0;

  static std::string auto_name(const char* prefix) {
    Scheduler& s = Scheduler::get();
    std::lock_guard<std::mutex> lk(s.mu);
    return std::string(prefix) + "_" + std::to_string(s.next_id++);
  }

 protected:
  void grew() {
    ++writes;
    ++occupancy;
    max_occupancy = std::max(max_occupancy, occupancy);
  }
};

inline void Scheduler::wait(std::unique_lock<std::mutex>& lk, Channel& ch, bool full) {
  if (aborted) throw Aborted{};
  Task* me = current();
  if (me == nullptr)
    throw std::logic_error(std::string("stream_csim: blocking ") + (full ? "write to full " : "read from empty ") +
                           ch.kind + " '" + ch.name + "' outside a dataflow task (nobody else can change it)");
  me->waiting = &ch;
  me->waiting_full = full;
  ++ch.waiters;
  ++blocked;
  if (blocked == live) {
    declare_deadlock();
  } else {
    const std::uint64_t seen = ch.generation;
    ch.cv.wait(lk, [&] { return ch.generation != seen || aborted; });
  }
  me->waiting = nullptr;
  if (aborted) throw Aborted{};
}

inline void Scheduler::wake(Channel& ch) {
  if (ch.waiters == 0) return;
  blocked -= ch.waiters;
  ch.waiters = 0;
  ++ch.generation;
  ch.cv.notify_all();
}

inline void Scheduler::abort_all() {
  aborted = true;
  for (Channel* ch : channels) ch->cv.notify_all();
}

inline void Scheduler::declare_deadlock() {
  std::ostringstream out;
  out << "DEADLOCK in dataflow region '" << region << "': all " << live << " live task(s) are blocked\n";
  for (const Task* t : tasks) {
    if (t->waiting == nullptr) continue;
    const Channel* ch = t->waiting;
    out << "  task " << t->name << " blocked " << (t->waiting_full ? "writing" : "reading") << " " << ch->kind
        << " '" << ch->name << "' (" << (t->waiting_full ? "FULL" : "EMPTY") << ", " << ch->occupancy << "/"
        << ch->capacity << ")\n";
  }
  report = out.str();
  std::cerr << report;
  abort_all();
}

// One dataflow region: each added task runs on its own std::thread; run() joins them all.
class Dataflow {
 public:
  explicit Dataflow(std::string name) : name_(std::move(name)) {}

  // `call` is the text of the task's call; the task is named after the function it calls.
  void add(const char* call, std::function<void()> body) {
    std::string text(call);
    const std::size_t paren = text.find('(');
    std::string task = text.substr(0, paren);
    task.erase(std::remove(task.begin(), task.end(), ' '), task.end());
    bodies_.push_back(std::move(body));
    names_.push_back(task);
  }

  void run() {
    Scheduler& s = Scheduler::get();
    std::vector<Task> tasks(bodies_.size());
    {
      std::lock_guard<std::mutex> lk(s.mu);
      if (s.running) throw std::logic_error("stream_csim: nested dataflow regions are not supported");
      s.running = true;
      s.aborted = false;
      s.region = name_;
      s.report.clear();
      s.error = nullptr;
      s.blocked = 0;
      s.live = static_cast<int>(tasks.size());
      s.tasks.clear();
      for (std::size_t i = 0; i < tasks.size(); ++i) {
        tasks[i].name = names_[i];
        s.tasks.push_back(&tasks[i]);
      }
    }
    std::vector<std::thread> threads;
    threads.reserve(tasks.size());
    for (std::size_t i = 0; i < tasks.size(); ++i)
      threads.emplace_back([&s, &tasks, this, i] { run_task(s, tasks[i], bodies_[i]); });
    for (std::thread& t : threads) t.join();
    std::string report;
    std::exception_ptr error;
    {
      std::lock_guard<std::mutex> lk(s.mu);
      s.running = false;
      s.tasks.clear();
      report = s.report;
      error = s.error;
    }
    if (error) std::rethrow_exception(error);
    if (!report.empty()) throw Deadlock(report);
  }

 private:
  static void run_task(Scheduler& s, Task& task, const std::function<void()>& body) {
    Scheduler::current() = &task;
    try {
      body();
    } catch (const Aborted&) {
    } catch (...) {
      std::lock_guard<std::mutex> lk(s.mu);
      if (!s.error) s.error = std::current_exception();
      s.abort_all();
    }
    Scheduler::current() = nullptr;
    std::lock_guard<std::mutex> lk(s.mu);
    --s.live;
    if (!s.aborted && s.live > 0 && s.blocked == s.live) s.declare_deadlock();
  }

  std::string name_;
  std::vector<std::function<void()>> bodies_;
  std::vector<std::string> names_;
};

// Statistics of every destroyed channel, sorted by name.
inline std::vector<ChannelStats> channel_stats() {
  Scheduler& s = Scheduler::get();
  std::lock_guard<std::mutex> lk(s.mu);
  std::vector<ChannelStats> out = s.finished;
  std::stable_sort(out.begin(), out.end(), [](const ChannelStats& a, const ChannelStats& b) { return a.name < b.name; });
  return out;
}

inline void clear_channel_stats() {
  Scheduler& s = Scheduler::get();
  std::lock_guard<std::mutex> lk(s.mu);
  s.finished.clear();
}

// CSV: name,kind,capacity,max_occupancy,writes,reads,leftover. Returns the number of channels that
// were destroyed with unread items.
inline int write_channel_stats(const std::string& path) {
  std::ofstream out(path);
  out << "name,kind,capacity,max_occupancy,writes,reads,leftover\n";
  int dirty = 0;
  for (const ChannelStats& c : channel_stats()) {
    out << c.name << "," << c.kind << "," << c.capacity << "," << c.max_occupancy << "," << c.writes << ","
        << c.reads << "," << c.leftover << "\n";
    dirty += c.leftover != 0;
  }
  return dirty;
}

}  // namespace stream_csim
