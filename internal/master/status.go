package master

import "time"

// Test states, with Locust's values where Locust has one.
const (
	StateReady    = "ready"    // no test running; the start form is open
	StateSpawning = "spawning" // users ramping toward the target
	StateRunning  = "running"  // target reached
	StateStopping = "stopping"
	StateStopped  = "stopped"
)

// Worker states, Locust's values.
const (
	WorkerReady    = "ready"
	WorkerSpawning = "spawning"
	WorkerRunning  = "running"
	WorkerStopped  = "stopped"
	WorkerMissing  = "missing"
)

// WorkerStatus is what the master knows of one worker.
type WorkerStatus struct {
	ID       string
	Index    int
	Hostname string
	State    string
	// Users is what the worker last reported running; Target what the
	// master asks of it.
	Users      int
	Target     int
	CPUPercent float64
	RSSBytes   uint64
	// CPUWarning is set while the worker's CPU is above the threshold:
	// its numbers stop being trustworthy.
	CPUWarning bool
	LastSeen   time.Time
	// RPS is the worker's request rate over the last report interval.
	RPS float64
}

// Status is the master's state at one instant.
type Status struct {
	State       string
	Users       int // running, summed over workers
	TargetUsers int
	SpawnRate   float64
	// ArrivalRate is the arrivals per second of an open-model test (0:
	// the closed model); TargetUsers is then its pool of users.
	ArrivalRate float64
	// Shape says what the script's stages or shape(t) do now ("" when
	// the test does not follow one); ShapeLast is their last word, kept
	// after the test ends for its summary.
	Shape     string
	ShapeLast string
	// UsersPeak is the most users that ran at once in the current test.
	UsersPeak int
	// Aborted is the error that ended the test early ("" when none did):
	// such a test failed.
	Aborted string
	Host    string
	Workers []WorkerStatus // sorted by ID
	Started time.Time      // zero when no test ran yet
	// RunTime is the test's run-time limit counted from Started (0: none),
	// so RunTime minus the time since Started is what remains. An edit
	// that sets a new limit from now moves it.
	RunTime time.Duration
}
